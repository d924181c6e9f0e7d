"""Reading a JSON request body: content type, size limit, syntax, top-level object."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from phone_delivery.domain.errors import InvalidData, InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from phone_delivery.domain.validation import target_of


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to be over ``limit`` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    if not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType("The request body must be JSON (Content-Type: application/json).")
    raw = await read_limited_body(request, limit)
    if not raw.strip():
        raise InvalidRequest("The request body is empty; a JSON object is required.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    nul = _nul_path(data, ())
    if nul is not None:
        # PostgreSQL cannot store U+0000 in text, and no PingOne field needs it.
        raise InvalidData.single("INVALID_VALUE", target_of(nul) or None, "Text must not contain the NUL character.")
    return data


def _nul_path(value: Any, path: tuple[int | str, ...]) -> tuple[int | str, ...] | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = (*path, key) if "\x00" in key else _nul_path(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, (*path, index))
            if found is not None:
                return found
    return None
