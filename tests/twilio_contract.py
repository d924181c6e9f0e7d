"""Twilio's own OpenAPI description (``shared/reference/twilio-oai``) as a contract for the sandbox:
find the operation a request was answered for, validate the JSON body against the response schema
Twilio documents for that status, and check that a resource carries every property Twilio lists."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "twilio-oai"
SPECS = {  # sandbox prefix -> Twilio's file for that API
    "/twilio-api": "twilio_api_v2010.json",
    "/twilio-messaging": "twilio_messaging_v1.json",
    "/twilio-verify": "twilio_verify_v2.json",
}
ERROR_KEYS = {"code", "message", "more_info", "status"}


@dataclass(frozen=True)
class Operation:
    template: str
    pattern: re.Pattern[str]
    method: str
    body: dict[str, Any]


@cache
def _spec(name: str) -> dict[str, Any]:
    return dict(json.loads((REFERENCE / name).read_text()))


@cache
def _operations(name: str) -> tuple[Operation, ...]:
    found = []
    for template, item in _spec(name)["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        for method, body in item.items():
            if method in ("get", "post", "put", "delete"):
                found.append(Operation(template, pattern, method.upper(), body))
    # Literal segments beat parameters (``/Messages.json`` before ``/{Sid}.json``).
    return tuple(sorted(found, key=lambda o: o.template.count("{")))


def _resolved(name: str, schema: Any, seen: frozenset[str] = frozenset()) -> Any:
    """Inline ``$ref``s and turn OpenAPI 3.0's ``nullable`` into JSON Schema's ``null`` type."""
    if isinstance(schema, list):
        return [_resolved(name, s, seen) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:
            return {}
        target = _spec(name)
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return _resolved(name, target, seen | {ref})
    out = {k: _resolved(name, v, seen) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time-rfc-2822", raises=ValueError)
def _rfc2822(value: object) -> bool:
    return not isinstance(value, str) or bool(datetime.strptime(value, "%a, %d %b %Y %H:%M:%S %z"))


@FORMATS.checks("date-time", raises=ValueError)
def _iso8601(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value))


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    """Absolute, as Twilio writes its ``url``s, or the 2010 API's relative ``*_uri``s; an empty string
    is what Twilio sends for an unset one."""
    if not isinstance(value, str) or value == "":
        return True
    return bool(re.match(r"https?://[^/\s]+", value) or re.match(r"/2010-04-01/\S+$", value))


def operation_for(path: str, method: str) -> tuple[str, Operation]:
    """(spec file, operation) for a sandbox path such as ``/twilio-api/2010-04-01/Accounts/AC.../Messages.json``."""
    for prefix, name in SPECS.items():
        if path.startswith(prefix + "/"):
            inner = path.removeprefix(prefix)
            for operation in _operations(name):
                if operation.method == method and operation.pattern.match(inner):
                    return name, operation
            raise AssertionError(f"Twilio's OpenAPI has no {method} {inner}")
    raise AssertionError(f"not a Twilio path of the sandbox: {path}")


def check_response(path: str, method: str, status: int, body: Any) -> list[str]:
    """Validate one answer; returns the names of the resources checked (for the tests' coverage)."""
    if status >= 400:
        assert set(body) == ERROR_KEYS and body["status"] == status, body
        assert body["more_info"] == f"https://www.twilio.com/docs/errors/{body['code']}"
        return [f"error {status}"]
    name, operation = operation_for(path, method)
    responses = operation.body["responses"]
    assert str(status) in responses, f"Twilio documents {sorted(responses)} for {method} {operation.template}"
    if status == 204:
        return [f"{method} {operation.template} 204"]
    schema = _resolved(name, responses[str(status)]["content"]["application/json"]["schema"])
    jsonschema.Draft7Validator(schema, format_checker=FORMATS).validate(body)
    checked = []
    for resource, resource_schema in _resources(body, schema):
        missing = set(resource_schema["properties"]) - set(resource)
        assert not missing, f"{method} {operation.template}: missing {sorted(missing)}"
        checked.append(resource_schema.get("title") or operation.template)
    return checked or [operation.template]


def _resources(body: Any, schema: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The resources in an answer: the body itself, or the items of a list page."""
    properties = schema.get("properties", {})
    lists = [
        (key, spec["items"])
        for key, spec in properties.items()
        if isinstance(spec, dict) and "array" in spec.get("type", ()) and "properties" in spec.get("items", {})
    ]
    if lists and ("meta" in properties or "next_page_uri" in properties):
        return [(item, item_schema) for key, item_schema in lists for item in body.get(key) or []]
    return [(body, schema)] if properties else []
