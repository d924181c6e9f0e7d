"""What every client command shares: its common options and the session that runs it.

The session resolves the credentials (``profiles.resolve``), opens the API client, and turns every
``ClientError`` into one clear message and the documented exit code, never a traceback. Ctrl-C ends
a command with exit 130 (128 + SIGINT, as shells do) and one short line, not click's "Aborted!" and
exit 1 (which the exit-code table gives to the server's refusals).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import httpx
import typer

from phone_delivery.client import profiles
from phone_delivery.client.api import ApiClient
from phone_delivery.client.errors import INTERRUPTED, ClientError, UsageError
from phone_delivery.client.output import Format, Output

ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        help="Profile to use (default: $PHONE_DELIVERY_PROFILE, else dev mode's credentials when this folder "
        "has them, else 'default').",
        show_default=False,
    ),
]
EnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env", "-e", help="Environment name or id (default: the profile's, or dev mode's).", show_default=False
    ),
]
OutputOpt = Annotated[Format, typer.Option("--output", "-o", help="table for people, json for scripts.")]


def group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)


class Session:
    """One command's run: output, and the API client opened on first use."""

    def __init__(self, profile: str | None, fmt: Format) -> None:
        self.output = Output(fmt)
        self.environ = dict(os.environ)
        self._profile = profile
        self._api: ApiClient | None = None
        self.interrupted: str | None = None  # what Ctrl-C says at this point of the command

    @property
    def api(self) -> ApiClient:
        if self._api is None:
            self._api = ApiClient(profiles.resolve(self._profile, self.environ))
        return self._api

    def close(self) -> None:
        if self._api is not None:
            self._api.close()


@contextmanager
def session(profile: str | None = None, fmt: Format = Format.table) -> Iterator[Session]:
    current = Session(profile, fmt)
    try:
        yield current
    except ClientError as exc:
        current.output.error(exc)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        current.output.note("interrupted" + (f": {current.interrupted}" if current.interrupted else ""))
        raise typer.Exit(INTERRUPTED) from None
    except httpx.InvalidURL as exc:
        current.output.error(UsageError(f"the server or token URL is not a valid URL: {exc}"))
        raise typer.Exit(UsageError.exit_code) from None
    finally:
        current.close()
