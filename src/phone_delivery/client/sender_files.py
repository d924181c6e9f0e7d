"""Sender files for ``senders create -f`` and ``senders apply -f``: YAML or JSON, one sender or many.

A file holds PingOne's sender body (``provider``, ``name``, ``sid``, ``authToken``, ...). Strings may
say ``${NAME}`` to take an environment variable's value, so that a file with secrets can be
committed; ``$${`` writes a literal ``${``. Request templates (``requests[]``) are left as they are:
their ``${to}`` and ``${message}`` are the gateway's placeholders. Fields the API does not know for
the provider are refused, so that a typo is not silently ignored by the server.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from phone_delivery.client.errors import ErrorDetail, UsageError

VARIABLE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_NUMBER_CHOICE = {"number", "type", "selected", "supportedCountries"}
_NUMBER_CUSTOM = {"number", "type", "selected", "available", "capabilities", "supportedCountries"}
_REQUEST = {"deliveryMethod", "url", "method", "body", "headers", "phoneNumberFormat", "beforeTag", "afterTag"}
AUTH_FIELDS = {
    "BASIC": ({"username"}, {"password"}),
    "BEARER": (set(), {"authToken"}),
    "OAUTH2": ({"authUrl", "clientId"}, {"clientSecret"}),
    "CUSTOM_HEADER": ({"headerName"}, {"headerValue"}),
}
# Per provider: the top-level fields, and the fields of each list's items.
SCHEMAS: dict[str, tuple[set[str], dict[str, set[str]]]] = {
    "CUSTOM_TWILIO": ({"sid", "authToken", "numbers"}, {"numbers": _NUMBER_CHOICE}),
    "CUSTOM_TWILIO_MESSAGING_SERVICE": (
        {"sid", "authToken", "messagingServices"},
        {"messagingServices": {"messagingServiceId", "name", "selected"}},
    ),
    "CUSTOM_TWILIO_VERIFY": ({"sid", "authToken", "verifyServiceId"}, {}),
    "CUSTOM_SYNIVERSE": ({"authToken", "numbers"}, {"numbers": _NUMBER_CHOICE}),
    "CUSTOM_SYNIVERSE_CHANNELS": (
        {"authToken", "channels", "deliveryConfigurationsExist", "smsTopicSubscription", "voiceTopicSubscription"},
        {"channels": {"id", "name", "selected"}},
    ),
    "CUSTOM_PROVIDER": (
        {"authentication", "requests", "numbers"},
        {"numbers": _NUMBER_CUSTOM, "requests": _REQUEST},
    ),
}
PROVIDERS = tuple(SCHEMAS)


def secret_paths(body: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Where this body's secrets are (write-only: never returned, never printed)."""
    if body.get("provider") == "CUSTOM_PROVIDER":
        method = (body.get("authentication") or {}).get("method")
        return [("authentication", name) for name in sorted(AUTH_FIELDS.get(str(method), (set(), set()))[1])]
    return [("authToken",)]


def load(path: Path, environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """The senders of a file, variables expanded and fields checked."""
    documents = read_documents(path)
    senders: list[dict[str, Any]] = []
    for document in documents:
        items = document if isinstance(document, list) else [document]
        senders.extend(items)
    if not senders:
        raise UsageError(f"{path} holds no sender")
    checked = []
    for index, raw in enumerate(senders):
        label = f"{path}: sender {index + 1}"
        if not isinstance(raw, dict):
            raise UsageError(f"{label} is not a mapping of fields")
        if isinstance(raw.get("name"), str):
            label += f" ({raw['name']})"
        missing: list[str] = []
        body = {key: (value if key == "requests" else _expand(value, environ, missing)) for key, value in raw.items()}
        if missing:
            names = ", ".join(sorted(set(missing)))
            raise UsageError(f"{label} uses environment variables that are not set: {names}")
        check(body, label)
        checked.append(body)
    return checked


def read_documents(path: Path) -> list[Any]:
    """The YAML or JSON documents of a file (``-``: stdin); an error never quotes the content."""
    try:
        text = path.read_text(encoding="utf-8") if str(path) != "-" else _stdin()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    return _parse(path, text)


def _stdin() -> str:
    import sys

    return sys.stdin.read()


def _parse(path: Path, text: str) -> list[Any]:
    """The file's documents. A parse error names the file, line, column and the parser's problem,
    never a snippet of the content (it could hold an inline secret, and end up in a CI log)."""
    if path.suffix.lower() == ".json":
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    import yaml  # JSON is YAML too: other suffixes (and stdin) are read as YAML

    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise UsageError(f"{path} is not valid YAML: {where}{exc.problem or 'cannot be parsed'}") from None
    except yaml.YAMLError:
        raise UsageError(f"{path} is not valid YAML") from None


def _expand(value: Any, environ: Mapping[str, str], missing: list[str]) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name = match.group(1)
            if not NAME.fullmatch(name):
                raise UsageError(f"${{{name}}} is not an environment variable name (write $${{ for a literal ${{)")
            if name not in environ:
                missing.append(name)
                return ""
            return environ[name]

        return VARIABLE.sub(replace, value)
    if isinstance(value, list):
        return [_expand(v, environ, missing) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, environ, missing) for k, v in value.items()}
    return value


def _unknown(found: set[str], allowed: set[str], where: str) -> list[ErrorDetail]:
    details = []
    for name in sorted(found - allowed):
        close = difflib.get_close_matches(name, sorted(allowed), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        details.append(ErrorDetail("UNKNOWN_FIELD", f"unknown field {name!r}{hint}", f"{where}{name}"))
    return details


def check(body: dict[str, Any], label: str) -> None:
    """Refuse unknown fields (with a suggestion) and bodies without a usable provider."""
    provider = body.get("provider")
    if provider not in SCHEMAS:
        raise UsageError(
            f"{label}: provider must be one of {', '.join(PROVIDERS)}",
            [ErrorDetail("INVALID_VALUE", f"provider is {provider!r}", "provider")],
        )
    top, lists = SCHEMAS[str(provider)]
    details = _unknown(set(body), top | {"provider", "name"}, "")
    for key, fields in lists.items():
        items = body.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            details.append(ErrorDetail("INVALID_VALUE", f"{key} must be a list", key))
            continue
        for index, item in enumerate(items):
            if isinstance(item, dict):
                details.extend(_unknown(set(item), fields, f"{key}[{index}]."))
            else:
                details.append(ErrorDetail("INVALID_VALUE", "each item must be a mapping", f"{key}[{index}]"))
    auth = body.get("authentication")
    if isinstance(auth, dict):
        method = auth.get("method")
        if method not in AUTH_FIELDS:
            details.append(
                ErrorDetail("INVALID_VALUE", f"method must be one of {', '.join(AUTH_FIELDS)}", "authentication.method")
            )
        else:
            plain, secret = AUTH_FIELDS[str(method)]
            details.extend(_unknown(set(auth), plain | secret | {"method"}, "authentication."))
    if details:
        raise UsageError(f"{label} has fields the API does not take for {provider}", details)
