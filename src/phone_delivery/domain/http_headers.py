"""What a tenant's configuration may put in an HTTP header.

Names are RFC 9110 tokens. Values are printable ASCII (space and tab inside): no CR, LF, NUL or
other control character, nothing outside ASCII, no space at either end, so every value we accept
can be sent as it is. Headers that frame or route a request, or concern one connection, are our
HTTP client's alone (``FRAMING_HEADERS`` and every ``Proxy-*``): a template that could set them
could end a request early or smuggle a second one onto a pooled connection.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
VALUE = re.compile(r"^(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?$")
FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade", "host"}
)
VALUE_RULE = "printable ASCII only: no line breaks, control or non-ASCII characters, and no space at either end"


def is_framing_header(name: str) -> bool:
    lower = name.lower()
    return lower in FRAMING_HEADERS or lower.startswith("proxy-")


def name_problem(name: str) -> str | None:
    """Why ``name`` may not be set by a tenant, or None."""
    if not TOKEN.fullmatch(name):
        return "Header names are HTTP tokens (letters, digits and !#$%&'*+.^_`|~- only, at most 128)."
    if is_framing_header(name):
        return f"{name} is written by phone-delivery's HTTP client, which frames every request itself; remove it."
    return None


def value_problem(value: str) -> str | None:
    """Why ``value`` cannot travel in a header, or None. Never quotes the value (it may be a secret)."""
    return None if VALUE.fullmatch(value) else f"The value must be {VALUE_RULE}."
