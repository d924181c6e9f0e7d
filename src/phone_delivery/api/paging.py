"""Cursor paging for collections ordered newest first by (time, id): the cursor is the last row's key."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.requests import Request

from phone_delivery.api.deps import is_uuid
from phone_delivery.domain.errors import InvalidData


def decode_cursor(cursor: str | None) -> tuple[int, str] | None:
    """(time, id) of the last row of the previous page; a malformed cursor is 400 on ``cursor``."""
    if cursor is None:
        return None
    try:
        at, _, last_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if is_uuid(last_id):
            return int(at), last_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidData.single("INVALID_PARAMETER", "cursor", "The cursor is invalid.")


def page_links(request: Request, limit: int, next_key: tuple[int, str] | None) -> dict[str, Any]:
    """``self``, and ``next`` (with the cursor after ``next_key``) when there is another page."""
    links: dict[str, Any] = {"self": {"href": str(request.url)}}
    if next_key is not None:
        cursor = base64.urlsafe_b64encode(f"{next_key[0]}:{next_key[1]}".encode()).decode()
        links["next"] = {"href": str(request.url.include_query_params(cursor=cursor, limit=limit))}
    return links
