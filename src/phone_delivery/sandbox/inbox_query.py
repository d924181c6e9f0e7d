"""Which inbox entries a request asks for: recipient, time, kind, text, paging and waiting.

The JSON API (``inbox_api.py``) and the page (``inbox_page.py``) read their query strings here, so
both search the same way. A bad parameter is a ``QueryError`` with a sentence saying what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The kinds of entry, with what people call them. The keys are the entries' ``kind``.
KINDS = {
    "SMS": "SMS",
    "CALL": "Voice call",
    "VERIFICATION": "Verify",
    "SYNIVERSE": "Syniverse SMS",
    "GATEWAY": "Gateway request",
}
KIND_ALIASES = {"VOICE": "CALL", "VERIFY": "VERIFICATION", "REQUEST": "GATEWAY"}
MAX_LIMIT = 1000
DEFAULT_LIMIT = 1000
MAX_WAIT_SECONDS = 60.0
MAX_TEXT = 200
MAX_ADDRESS = 254  # an email address at most (Verify's email channel)
CURSOR_PREFIX = b"inbox:"
CODE = re.compile(r"(?<![0-9])[0-9]{4,10}(?![0-9])")  # a run of 4-10 digits, not part of a longer one
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
PHONE_LIKE = re.compile(r"^[+0-9 ().-]+$")


class QueryError(ValueError):
    """A parameter the inbox cannot use; the message says which and why."""


@dataclass(frozen=True)
class InboxQuery:
    to: str | None = None
    since: float | None = None  # epoch seconds
    kind: str | None = None
    text: str | None = None
    limit: int = DEFAULT_LIMIT
    before: int | None = None  # from the cursor: entries older than this position
    wait: float | None = None  # seconds

    def matches(self, entry: Mapping[str, Any]) -> bool:
        if self.to is not None and entry.get("to") != self.to:
            return False
        if self.kind is not None and entry.get("kind") != self.kind:
            return False
        return self.text is None or _contains(entry, self.text)

    def page_params(self) -> dict[str, str]:
        """The parameters that select entries (for a next link or a page URL), without paging."""
        params = {"to": self.to, "kind": self.kind, "q": self.text}
        if self.since is not None:
            params["since"] = datetime.fromtimestamp(self.since, tz=UTC).isoformat().replace("+00:00", "Z")
        return {k: v for k, v in params.items() if v is not None}


def parse_query(params: Sequence[tuple[str, str]], allowed: Sequence[str]) -> InboxQuery:
    """Read ``params`` (the query string's pairs); names outside ``allowed`` are refused, so that a
    typo such as ``To=`` does not silently widen what a test reads."""
    seen: dict[str, str] = {}
    for name, value in params:
        if name not in allowed:
            raise QueryError(f"unknown parameter {_shown(name)}; the parameters are: {', '.join(allowed)}")
        if name in seen:
            raise QueryError(f"{name} is given more than once")
        seen[name] = value
    return InboxQuery(
        to=_address(seen["to"]) if "to" in seen else None,
        since=_since(seen["since"]) if "since" in seen else None,
        kind=_kind(seen["kind"]) if seen.get("kind") else None,
        text=_text(seen["q"]) if seen.get("q") else None,
        limit=_limit(seen["limit"]) if "limit" in seen else DEFAULT_LIMIT,
        before=decode_cursor(seen["cursor"]) if "cursor" in seen else None,
        wait=_wait(seen["wait"]) if "wait" in seen else None,
    )


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(CURSOR_PREFIX + str(seq).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    problem = QueryError("cursor is not one this inbox wrote; follow the next link as given")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", cursor):
        raise problem
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise problem from None
    digits = raw.removeprefix(CURSOR_PREFIX)
    if digits == raw or not re.fullmatch(rb"[1-9][0-9]{0,15}", digits):
        raise problem
    return int(digits)


def one_time_code(entry: Mapping[str, Any]) -> str | None:
    """The code an entry carries: the OTP where the sandbox knows it, else the first run of 4-10 digits
    in its text."""
    known = entry.get("code")
    if isinstance(known, str) and known:
        return known
    for field in ("body", "twiml"):
        text = entry.get(field)
        found = CODE.search(text) if isinstance(text, str) else None
        if found:
            return found.group()
    return None


def kind_label(kind: object) -> str:
    return KINDS.get(str(kind), str(kind).title()) if kind else "Message"


def _contains(entry: Mapping[str, Any], text: str) -> bool:
    needle = text.casefold()
    fields = ("to", "from", "body", "messagingServiceName", "messagingServiceSid", "channel", "id", "path")
    for name in fields:
        value = entry.get(name)
        if isinstance(value, str) and needle in value.casefold():
            return True
    digits = re.sub(r"[^0-9]", "", text)
    if PHONE_LIKE.fullmatch(text) and len(digits) >= 3:  # "+1 (415) 555" finds +1415555...
        return any(digits in re.sub(r"[^0-9]", "", str(entry.get(name) or "")) for name in ("to", "from"))
    return False


def _shown(value: str) -> str:
    return repr(value[:40])


def _address(value: str) -> str:
    if not value:
        raise QueryError("to is empty; give the recipient, e.g. to=%2B14155552671")
    if CONTROL.search(value):
        raise QueryError("to holds control characters (such as CR or LF); give the recipient alone")
    if len(value) > MAX_ADDRESS:
        raise QueryError(f"to is longer than {MAX_ADDRESS} characters")
    if value.startswith(" ") and value[1:].isdigit():
        raise QueryError(f"to starts with a space: write + as %2B in a URL (to=%2B{value[1:]})")
    return value


def _since(value: str) -> float:
    try:
        when = datetime.fromisoformat(value.strip()) if len(value) <= 64 else None
    except ValueError:
        when = None
    if when is None:
        raise QueryError(f"since must be an ISO 8601 time such as 2025-01-31T12:00:00Z, not {_shown(value)}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # a time without an offset is UTC
    return when.timestamp()


def _kind(value: str) -> str:
    name = value.strip().upper()
    name = KIND_ALIASES.get(name, name)
    if name not in KINDS:
        raise QueryError(f"kind must be one of {', '.join(KINDS)}, not {_shown(value)}")
    return name


def _text(value: str) -> str:
    if CONTROL.search(value):
        raise QueryError("q holds control characters")
    if len(value) > MAX_TEXT:
        raise QueryError(f"q is longer than {MAX_TEXT} characters")
    return value


def _limit(value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,7}", value) or not 1 <= int(value) <= MAX_LIMIT:
        raise QueryError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {_shown(value)}")
    return int(value)


def _wait(value: str) -> float:
    try:
        seconds = float(value) if len(value) <= 20 else math.nan
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_WAIT_SECONDS:
        raise QueryError(f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}, not {_shown(value)}")
    return seconds
