"""What can go wrong on the client side, each with the exit code the command ends with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Exit codes (docs/cli.md, "Exit codes").
OK = 0
API_ERROR = 1  # the server answered with an error (or a name was not found)
USAGE = 2  # a bad option, argument or file: nothing was sent
UNREACHABLE = 3  # could not connect, or the credentials were refused
SEND_FAILED = 4  # a notification or test send ended FAILED or UNDELIVERED
WAIT_TIMEOUT = 5  # send --wait gave up before a final status
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


@dataclass(frozen=True)
class ErrorDetail:
    code: str
    message: str
    target: str | None = None


class ClientError(Exception):
    """An error the command reports in PingOne's terms and ends with ``exit_code``."""

    exit_code = API_ERROR

    def __init__(
        self, code: str, message: str, details: list[ErrorDetail] | None = None, *, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []
        self.status = status

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.status is not None:
            body["status"] = self.status
        if self.details:
            body["details"] = [
                {"code": d.code, "message": d.message, **({"target": d.target} if d.target else {})}
                for d in self.details
            ]
        return body


class ApiError(ClientError):
    """The server answered with an error body (PingOne's ``{id, code, message, details}``)."""

    exit_code = API_ERROR

    @classmethod
    def from_body(cls, status: int, body: Any) -> ApiError:
        if not isinstance(body, dict) or not isinstance(body.get("code"), str):
            return cls("HTTP_ERROR", f"The server answered {status} without an error body.", status=status)
        details = [
            ErrorDetail(str(d.get("code", "")), str(d.get("message", "")), d.get("target"))
            for d in body.get("details") or []
            if isinstance(d, dict)
        ]
        return cls(body["code"], str(body.get("message", "")), details, status=status)


class NotFoundLocally(ClientError):
    """A name or id that matches nothing the API lists."""

    exit_code = API_ERROR

    def __init__(self, message: str) -> None:
        super().__init__("NOT_FOUND", message)


class UsageError(ClientError):
    """Bad input found before anything was sent: an option, a file, a missing variable."""

    exit_code = USAGE

    def __init__(self, message: str, details: list[ErrorDetail] | None = None) -> None:
        super().__init__("USAGE", message, details)


class Unreachable(ClientError):
    """No connection, a timeout, or credentials the server refused."""

    exit_code = UNREACHABLE
