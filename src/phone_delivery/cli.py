"""The ``phone-delivery`` command."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import uvicorn
from pydantic import ValidationError

from phone_delivery.client.commands import register as register_client_commands
from phone_delivery.settings import Settings

if TYPE_CHECKING:
    from phone_delivery.sandbox.inbox_store import InboxStore

app = typer.Typer(
    help="phone-delivery: PingOne's Phone Delivery Settings API, self-hosted. Settings come from "
    "PHONE_DELIVERY_* environment variables (see the README); options override them.",
    no_args_is_help=True,
    add_completion=False,
    # Rich tracebacks print local variables, which may hold secrets: never show them.
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(
    help="Manage the keys that encrypt secrets at rest.", no_args_is_help=True, pretty_exceptions_enable=False
)
app.add_typer(keys_app, name="keys")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Folder for the SQLite file and key file.")]
Port = Annotated[int | None, typer.Option("--port", help="Port to listen on.")]
Host = Annotated[str | None, typer.Option("--host", help="Interface to listen on.")]


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:  # one line per README: each bad setting, its variable and why
        problems = "; ".join(
            f"PHONE_DELIVERY_{'_'.join(map(str, e['loc'])).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        typer.echo(f"error: invalid configuration: {problems}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:
        typer.echo(f"error: invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from None


def _echo(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def _configuration_errors(settings: Settings) -> Iterator[None]:
    """A bad key, a database that cannot be reached or opened: one clear line and exit 1, never a
    traceback (a traceback of a connection string or key setting could show a secret)."""
    from sqlalchemy.exc import SQLAlchemyError

    from phone_delivery.store.crypto import KeyringError

    try:
        yield
    except KeyringError as exc:
        _echo(f"error: the keys that encrypt secrets are unusable: {exc}. See docs/security.md (Keys).")
        raise typer.Exit(1) from None
    except (SQLAlchemyError, OSError, ImportError) as exc:
        hint = (
            " (the drivers included are sqlite+aiosqlite:// and postgresql+asyncpg://)"
            if isinstance(exc, ImportError)
            else ""
        )
        _echo(f"error: cannot use the database {_safe_url(settings.resolved_database_url)}: {_reason(exc)}{hint}")
        raise typer.Exit(1) from None


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as nothing rather than risk a secret
        return "(PHONE_DELIVERY_DATABASE_URL)"


def _reason(exc: BaseException) -> str:
    """The innermost cause's first line, without SQLAlchemy's background link."""
    inner: BaseException = exc
    while getattr(inner, "orig", None) is not None:
        inner = inner.orig  # type: ignore[attr-defined]
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else ""
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__


def _check_port(host: str, port: int) -> None:
    """Refuse to start (before writing anything) when the port is taken."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind((host, port))
        except OSError as exc:
            _echo(
                f"error: cannot listen on {host}:{port} ({exc.strerror or exc}); another program is using it. "
                "Choose another port with --port (0 picks a free one)."
            )
            raise typer.Exit(1) from None


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived command on the event loop `serve` gets from uvicorn: uvloop where it is
    installed (uvicorn[standard] brings it, except on Windows), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def _run(settings: Settings, application: Any, graceful_seconds: int | None = None) -> None:
    from phone_delivery.logging_setup import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=graceful_seconds,
    )


def _run_processes(settings: Settings, workers: int) -> None:
    """``workers`` uvicorn processes on one socket, each building the app from the environment (the
    command line's settings are handed down as environment variables). uvicorn's supervisor passes
    SIGTERM and Ctrl-C on to each process, which shuts down as a single one does."""
    from phone_delivery.logging_setup import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    port = settings.port or _free_port(settings.host)
    os.environ.update(
        {
            "PHONE_DELIVERY_DATA_DIR": str(settings.data_dir),
            "PHONE_DELIVERY_HOST": settings.host,
            "PHONE_DELIVERY_PORT": str(port),
        }
    )
    _echo(f"starting {workers} API processes on {settings.host}:{port}, each with a delivery worker")
    uvicorn.run(
        "phone_delivery.app:app_from_environment",
        factory=True,
        workers=workers,
        host=settings.host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
    )


# An open inbox page holds a stream of server-sent events: Ctrl-C waits this long for it, no longer.
SANDBOX_GRACEFUL_SECONDS = 2


def _open_inbox(path: Path) -> InboxStore:
    """The sandbox inbox kept in ``path``, or one clear line and exit 1."""
    from phone_delivery.sandbox.inbox_store import InboxStore

    try:
        return InboxStore(path)
    except OSError as exc:
        _echo(f"error: cannot open the sandbox inbox file {path}: {exc.strerror or exc}")
        raise typer.Exit(1) from None


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


Workers = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        help="API processes sharing the port, each with its own delivery worker (leases keep them apart).",
    ),
]


@app.command()
def serve(data_dir: DataDir = None, host: Host = None, port: Port = None, workers: Workers = 1) -> None:
    """Run the service for production: real Twilio hosts, migrations applied at start."""
    from phone_delivery.app import create_app

    settings = _settings(data_dir=data_dir, host=host, port=port)
    with _configuration_errors(settings):
        has_admin, key_ids = asyncio.run(_preflight(settings))
    if not has_admin:
        _echo(
            "error: the database has no administrator yet. Run 'phone-delivery bootstrap' first; it "
            "prints the credentials of an Organization Admin application once."
        )
        raise typer.Exit(1)
    _check_port(settings.host, settings.port)
    _echo(_startup_summary(settings, key_ids, workers))
    if not settings.public_base_url:
        _echo(
            "warning: PHONE_DELIVERY_PUBLIC_BASE_URL is not set: links and token issuers follow each request's "
            "Host header (so the iss check cannot tell this server's tokens by address), and Twilio status "
            "callbacks are not requested. Set it to the address clients use (docs/security.md, Tokens)."
        )
    if workers == 1:
        _run(settings, create_app(settings, worker_environment=_worker_environment(settings)))
    else:
        _run_processes(settings, workers)


def _worker_runs_separately(settings: Settings) -> bool:
    """Whether ``serve`` (one API process) starts its delivery worker as a process of its own."""
    from phone_delivery.worker.worker_process import cores_available

    if not settings.worker_enabled:
        return False
    return settings.worker_process == "separate" or (settings.worker_process == "auto" and cores_available() > 1)


def _worker_environment(settings: Settings) -> dict[str, str] | None:
    """The environment of serve's worker process (this one's, with the command line's data folder), or
    None when the worker runs on serve's event loop."""
    if not _worker_runs_separately(settings):
        return None
    return {**os.environ, "PHONE_DELIVERY_DATA_DIR": str(settings.data_dir.resolve())}


@app.command()
def dev(data_dir: DataDir = None, host: Host = None, port: Port = None) -> None:
    """Run the embedded default with the Twilio sandbox and a ready environment (dev mode).

    Writes DATA_DIR/dev-credentials.json and prints it with ready curl commands.
    """
    from phone_delivery.app import SANDBOX_MOUNT, create_app
    from phone_delivery.devmode import banner, credentials_path, prepare, seed_sandbox
    from phone_delivery.sandbox.app import provider_base_urls
    from phone_delivery.sandbox.dev_state import INBOX_FILE, DevSandboxState
    from phone_delivery.sandbox.state import SandboxState

    started = time.perf_counter()
    base = _settings(data_dir=data_dir, host=host, port=port)
    _check_port(base.host, base.port)  # before any credentials are written for a server that cannot start
    chosen_port = base.port or _free_port(base.host)
    public_host = "127.0.0.1" if base.host in ("0.0.0.0", "::") else base.host  # noqa: S104
    api_base = base.public_base_url or f"http://{public_host}:{chosen_port}"
    sandbox_urls = provider_base_urls(f"{api_base}{SANDBOX_MOUNT}")
    explicit = {name: getattr(base, name) for name in sandbox_urls if name in base.model_fields_set}
    # Custom providers may call the sandbox's gateway and OAuth2 endpoint, on this very host.
    allowed = ",".join([*base.allowed_hosts, f"{public_host}:{chosen_port}"])
    settings = base.model_copy(
        update={
            **sandbox_urls,
            **explicit,
            "port": chosen_port,
            "dev_mode": True,
            "allowed_private_hosts": allowed,
            "public_base_url": api_base,
        }
    )
    _echo("preparing dev mode: migrating the database and seeding the sandbox ...")
    with _configuration_errors(settings):
        asyncio.run(_preflight(settings))
        data = asyncio.run(prepare(settings, api_base, SandboxState()))
    twilio = data["twilio"]
    # The seed comes back after every reset; the inbox is kept in the data directory; clients other
    # than loopback (--host 0.0.0.0) reach the admin API with the sandbox account's credentials.
    sandbox = DevSandboxState(
        seed=lambda state: seed_sandbox(state, data),
        inbox=_open_inbox(settings.data_dir / INBOX_FILE),
        admin_credentials=(twilio["accountSid"], twilio["authToken"]),
    )
    if not settings.platform_twilio_account_sid:
        # PINGONE_TWILIO in dev mode: the sandbox account, its first Messaging Service, its voice number.
        settings = settings.model_copy(
            update={
                "platform_twilio_account_sid": data["twilio"]["accountSid"],
                "platform_twilio_auth_token": data["twilio"]["authToken"],
                "platform_twilio_messaging_service_sid": data["twilio"]["messagingServices"][0]["sid"],
                "platform_twilio_from_number": "+15005550006",
            }
        )
    typer.echo(banner(data, credentials_path(settings)))
    _echo(f"ready in {time.perf_counter() - started:.2f}s; listening on {api_base}")
    _run(settings, create_app(settings, sandbox), SANDBOX_GRACEFUL_SECONDS)


LinkFd = Annotated[
    int | None,
    # serve's end of a socket pair, when serve started this worker (worker/worker_process.py)
    typer.Option("--link-fd", hidden=True),
]


@app.command()
def worker(data_dir: DataDir = None, link_fd: LinkFd = None) -> None:
    """Run the delivery worker alone (no HTTP server): any number can share one PostgreSQL database."""
    from phone_delivery.logging_setup import configure_logging
    from phone_delivery.runtime import build_services
    from phone_delivery.worker.worker_process import serve_link

    settings = _settings(data_dir=data_dir)
    configure_logging(settings.log_level, settings.log_format)

    async def run() -> None:
        services = await build_services(settings)
        delivery = services.worker
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, delivery.stop)
        link = asyncio.create_task(serve_link(link_fd, delivery)) if link_fd is not None else None
        try:
            await delivery.run()
        finally:
            if link is not None:
                link.cancel()
                await asyncio.gather(link, return_exceptions=True)
            await services.close()

    if link_fd is None:
        _echo("delivery worker starting; stop it with Ctrl-C or SIGTERM")
    with _configuration_errors(settings):  # build_services opens keys and database outside any server
        _run_loop(run())


@app.command()
def bootstrap(data_dir: DataDir = None) -> None:
    """Create the first administrators environment and an Organization Admin application.

    Prints its client id and secret once. Refuses when an Organization Admin already exists.
    """
    settings = _settings(data_dir=data_dir)
    with _configuration_errors(settings):
        result = asyncio.run(_bootstrap(settings))
    if result is None:
        _echo(
            "error: an Organization Admin application already exists; bootstrap runs only on an empty "
            "database. Use the applications API to create more."
        )
        raise typer.Exit(1)
    typer.echo(json.dumps(result, indent=2))
    _echo("Store the clientSecret now: it is kept only as a hash and will not be shown again.")
    _echo(
        "Next steps:\n"
        "  1. start the service:   phone-delivery serve   (set PHONE_DELIVERY_PUBLIC_BASE_URL to its address)\n"
        "  2. get a token:         curl -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials "
        f"BASE_URL{result['tokenPath']}\n"
        "  3. create an environment and its senders: see README.md (Walkthrough) and docs/providers.md"
    )


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Apply database migrations up to the newest revision."""
    from phone_delivery.store.database import Database
    from phone_delivery.store.migrate import current_revision, head_revision, upgrade_to_head

    settings = _settings(data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> str | None:
        database = Database(settings.resolved_database_url)
        try:
            _echo(f"migrating to {head_revision()} ...")
            await upgrade_to_head(database)
            return await current_revision(database)
        finally:
            await database.dispose()

    with _configuration_errors(settings):
        revision = asyncio.run(run())
    typer.echo(f"database at revision {revision}")


@keys_app.command("rotate")
def keys_rotate(data_dir: DataDir = None) -> None:
    """Add a new primary key (key-file mode) and re-encrypt every stored secret with the primary key.

    With PHONE_DELIVERY_SECRET_KEYS set, put the new key first in that setting yourself (keep the
    old ones after it), then run this to re-encrypt.
    """
    from phone_delivery.store.crypto import Keyring, KeyringError, SecretCipher
    from phone_delivery.store.database import Database
    from phone_delivery.store.migrate import upgrade_to_head
    from phone_delivery.store.rotation import reencrypt_all

    settings = _settings(data_dir=data_dir)
    try:
        if settings.secret_keys:
            ring = Keyring.parse_setting(settings.secret_keys)
            _echo(f"keys from PHONE_DELIVERY_SECRET_KEYS; primary key is {ring.primary}")
        else:
            ring = Keyring.load_or_create_file(settings.key_file).with_new_primary()
            ring.write_file(settings.key_file)
            _echo(f"added key {ring.primary} to {settings.key_file} as the primary key")
    except KeyringError as exc:
        _echo(f"error: {exc}")
        raise typer.Exit(2) from None

    async def run() -> int:
        database = Database(settings.resolved_database_url)
        try:
            await upgrade_to_head(database)
            return await reencrypt_all(database, SecretCipher(ring))
        finally:
            await database.dispose()

    _echo("re-encrypting stored secrets ...")
    with _configuration_errors(settings):
        count = asyncio.run(run())
    typer.echo(f"re-encrypted {count} secret(s) with key {ring.primary}")


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    seed: Annotated[bool, typer.Option(help="Create a demo account with three Messaging Services.")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Keep the inbox in DIR/sandbox-inbox.jsonl (default: memory).")
    ] = None,
) -> None:
    """Run the Twilio sandbox alone (its admin API is at /_admin, its inbox at /inbox)."""
    from phone_delivery.devmode import MESSAGING_SERVICE_NAMES
    from phone_delivery.logging_setup import configure_logging
    from phone_delivery.sandbox.app import create_sandbox_app
    from phone_delivery.sandbox.dev_state import INBOX_FILE, DevSandboxState
    from phone_delivery.sandbox.state import SandboxState, new_sid

    inbox = _open_inbox(data_dir / INBOX_FILE) if data_dir is not None else None
    if seed:
        sid, token = new_sid("AC"), secrets.token_hex(16)

        def seed_demo(state: SandboxState) -> None:
            account = state.add_account(sid, token, "Demo account")
            for name in MESSAGING_SERVICE_NAMES:
                state.add_messaging_service(account.sid, name)

        # The demo account survives reset, and is the admin credentials for clients other than loopback.
        state = DevSandboxState(seed=seed_demo, inbox=inbox, admin_credentials=(sid, token))
        typer.echo(json.dumps({"accountSid": sid, "authToken": token}, indent=2))
    else:
        state = DevSandboxState(inbox=inbox)
    configure_logging()
    uvicorn.run(
        create_sandbox_app(state),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=SANDBOX_GRACEFUL_SECONDS,
    )


async def _preflight(settings: Settings) -> tuple[bool, list[str]]:
    """What starting needs, checked before any server starts: the keys load, the database opens and
    migrates, the token signing key decrypts. (Whether an Organization Admin exists, the key ids.)"""
    from phone_delivery.runtime import open_cipher
    from phone_delivery.security.tokens import TokenService
    from phone_delivery.store.database import Database
    from phone_delivery.store.environments_repo import ApplicationRepository
    from phone_delivery.store.migrate import upgrade_to_head

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    cipher = open_cipher(settings)
    database = Database(settings.resolved_database_url)
    try:
        await upgrade_to_head(database)
        await TokenService.load(database, cipher, settings.token_audience, settings.token_lifetime_seconds)
        async with database.read() as conn:
            return await ApplicationRepository(conn).organization_admin_exists(), cipher.key_ids
    finally:
        await database.dispose()


def _startup_summary(settings: Settings, key_ids: list[str], workers: int = 1) -> str:
    """What ``serve`` runs with, in a few lines: an operator sees at once a setting that is off."""
    from urllib.parse import urlsplit

    from phone_delivery import __version__

    hosts = [
        urlsplit(url).netloc
        for url in (
            settings.twilio_api_base_url,
            settings.twilio_messaging_base_url,
            settings.twilio_verify_base_url,
            settings.syniverse_base_url,
        )
    ]
    keys = ", ".join(f"{kid} (encrypts)" if i == 0 else kid for i, kid in enumerate(key_ids))
    key_source = "PHONE_DELIVERY_SECRET_KEYS" if settings.secret_keys else str(settings.key_file)
    platform = (
        "configured"
        if settings.platform_twilio_account_sid and settings.platform_twilio_auth_token
        else "not configured: sends that fall back to it fail (PHONE_DELIVERY_PLATFORM_TWILIO_*)"
    )
    lines = [
        f"phone-delivery {__version__} on http://{settings.host}:{settings.port}",
        f"  database        {_safe_url(settings.resolved_database_url)}",
        f"  keys            {keys} (from {key_source})",
        f"  provider hosts  {', '.join(hosts)}",
        f"  public URL      {settings.public_base_url or 'not set (see the warning below)'}",
        f"  PINGONE_TWILIO  {platform}",
        f"  worker          {_worker_summary(settings, workers)}",
    ]
    return "\n".join(lines)


def _worker_summary(settings: Settings, workers: int) -> str:
    if not settings.worker_enabled:
        return "not here (run phone-delivery worker)"
    if workers > 1:
        return "in each API process"
    if _worker_runs_separately(settings):
        return "in a process of its own, started by this one (PHONE_DELIVERY_WORKER_PROCESS)"
    return "in this process"


async def _bootstrap(settings: Settings) -> dict[str, str] | None:
    from phone_delivery.accounts import create_organization_admin
    from phone_delivery.store.database import Database
    from phone_delivery.store.environments_repo import ApplicationRepository
    from phone_delivery.store.migrate import upgrade_to_head

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.resolved_database_url)
    try:
        await upgrade_to_head(database)
        async with database.write() as conn:
            if await ApplicationRepository(conn).organization_admin_exists():
                return None
            env, issued = await create_organization_admin(conn, "Administrators")
    finally:
        await database.dispose()
    return {
        "environmentId": env.id,
        "clientId": issued.application.id,
        "clientSecret": issued.client_secret,
        "tokenPath": f"/{env.id}/as/token",
    }


# After the server commands, so that --help lists serve and dev first.
register_client_commands(app)  # login, send, environments, senders, chain, ... (docs/cli.md)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
