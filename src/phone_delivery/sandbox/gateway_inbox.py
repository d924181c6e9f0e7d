"""A custom gateway request as the inbox shows it: who it was to and from, read from its fields, and
what it carried with every secret masked.

To and From come from the first field named like a recipient (``to``, ``phone``, ``recipient``...)
or a sender (``from``, ``sender``...) in the JSON body (at any depth), the form body or the query
string; None (shown as "unknown") when there is none. Masked: ``Authorization`` and
``Proxy-Authorization`` (the scheme stays), cookies, any header or field whose name holds token,
secret, key, password or auth, and any value that is Basic credentials. The raw request stays
in memory for ``/_admin/gateway/requests``; only the masked one enters the inbox, and so its file.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

MASK = "••••••"
RECIPIENT_NAMES = ("to", "phone", "recipient", "recipients", "phonenumber", "msisdn", "destination", "number")
SENDER_NAMES = ("from", "sender", "senderid", "source", "originator")
SECRET_NAME = re.compile(r"token|secret|key|passw|auth|cookie|credential|signature", re.I)
BASIC_VALUE = re.compile(r"^\s*basic\s+\S+", re.I)
MAX_DEPTH = 6
FORM = re.compile(r"[^&=\s]+=[^&\s]*(?:&[^&=\s]+=[^&\s]*)*")  # a=1&b=2, as a form body or query string


def gateway_entry_fields(query: str, headers: list[tuple[str, str]], body: str) -> dict[str, Any]:
    """``to``, ``from``, ``headers`` (masked pairs), ``query`` and ``body`` (secret fields masked)."""
    fields = _fields(query, body)
    return {
        "to": _first(fields, RECIPIENT_NAMES),
        "from": _first(fields, SENDER_NAMES),
        "headers": [(name, masked_header(name, value)) for name, value in headers],
        "query": _masked_form(query),
        "body": _masked_body(body),
    }


def masked_header(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered in ("authorization", "proxy-authorization"):
        scheme, _, rest = value.partition(" ")
        return f"{scheme} {MASK}" if rest else MASK
    if SECRET_NAME.search(lowered) or BASIC_VALUE.match(value):
        return MASK
    return value


def _fields(query: str, body: str) -> list[tuple[str, Any]]:
    """Every (name, value) the request carried, body first, in order, JSON flattened."""
    found: list[tuple[str, Any]] = []
    parsed = _json(body)
    if parsed is not None:
        _walk(parsed, found, 0)
    elif FORM.fullmatch(body):
        found.extend(parse_qsl(body))
    if FORM.fullmatch(query):
        found.extend(parse_qsl(query))
    return found


def _walk(value: Any, found: list[tuple[str, Any]], depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((str(key), item))
        for item in value.values():
            _walk(item, found, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(item, found, depth + 1)


def _first(fields: list[tuple[str, Any]], names: tuple[str, ...]) -> str | None:
    for name, value in fields:
        if re.sub(r"[^a-z]", "", name.lower()) not in names:
            continue
        if isinstance(value, list) and value and isinstance(value[0], str | int):
            value = value[0]  # {"to": ["+1...", ...]}: the first recipient
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:256]
    return None


def _json(body: str) -> Any:
    if not body.lstrip().startswith(("{", "[")):
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _masked_body(body: str) -> str:
    parsed = _json(body)
    if parsed is not None:
        masked = _masked_json(parsed, 0)
        return body if masked == parsed else orjson.dumps(masked).decode()
    return _masked_form(body)


def _masked_json(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {
            key: MASK if SECRET_NAME.search(str(key)) and item not in (None, "") else _masked_json(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked_json(item, depth + 1) for item in value]
    if isinstance(value, str) and BASIC_VALUE.match(value):
        return MASK
    return value


def _masked_form(text: str) -> str:
    if not FORM.fullmatch(text):
        return text
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(SECRET_NAME.search(name) for name, _ in pairs):
        return text  # nothing to mask: exactly as received
    return urlencode([(name, MASK if SECRET_NAME.search(name) else value) for name, value in pairs])
