"""Cursor paging for collections ordered newest first by (time, id): the cursor is the last row's key."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from starlette.requests import Request

from phone_delivery.domain.errors import InvalidData

# What we write in a cursor: "<milliseconds>:<id>", milliseconds canonical decimal of at most 15
# digits (any time up to the year 33658, and always within a database's 64-bit integer).
_CURSOR = re.compile(r"^(0|[1-9][0-9]{0,14}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


def encode_cursor(at: int, last_id: str) -> str:
    return base64.urlsafe_b64encode(f"{at}:{last_id}".encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[int, str] | None:
    """(time, id) of the last row of the previous page. Only a cursor exactly as we write it is
    accepted; anything else is 400 on ``cursor``."""
    if cursor is None:
        return None
    try:
        match = _CURSOR.fullmatch(base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii"))
    except (binascii.Error, UnicodeError, ValueError):
        match = None
    if match is None or encode_cursor(int(match[1]), match[2]) != cursor:
        raise InvalidData.single("INVALID_PARAMETER", "cursor", "The cursor is invalid: use a _links.next we gave.")
    return int(match[1]), match[2]


def page_links(request: Request, limit: int, next_key: tuple[int, str] | None) -> dict[str, Any]:
    """``self``, and ``next`` (with the cursor after ``next_key``) when there is another page."""
    links: dict[str, Any] = {"self": {"href": str(request.url)}}
    if next_key is not None:
        cursor = encode_cursor(*next_key)
        links["next"] = {"href": str(request.url.include_query_params(cursor=cursor, limit=limit))}
    return links
