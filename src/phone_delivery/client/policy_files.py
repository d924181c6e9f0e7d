"""Policy files for ``policies apply -f``: YAML or JSON, one notification policy or several.

A file holds PingOne's policy body (``name``, ``default``, ``quotas``, ``countryLimit``,
``providerConfiguration``, ``cooldownConfiguration``, and our ``fraudProtection``). A
``fallbackChain`` entry may name a sender by name or id (``{id: NAME-OR-ID}``, ``{name: NAME}`` or
just the string), looked up in the one environment concerned, or be ``PINGONE_TWILIO``. Fields the
API does not know are refused: the server ignores them silently.

A PUT of a policy is a whole replacement, so ``apply`` makes the policy exactly what the file says
(a rule left out goes back to its default). To see whether a PUT would change anything, the file's
rules are written in their stored form (the defaults docs/policies.md gives filled in) and compared
with the server's. Should a server fill in a default this module does not know, the result is an
update that changes nothing, never a change that is skipped.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phone_delivery.client import lookup
from phone_delivery.client.errors import ErrorDetail, UsageError
from phone_delivery.client.sender_files import read_documents

# A schema: field -> None (a value or a list of values), a schema (an object) or [schema] (a list of objects).
Schema = dict[str, Any]
_COOLDOWN: Schema = {
    "enabled": None,
    "periods": [{"duration": None, "timeUnit": None}],
    "groupBy": None,
    "resendLimit": None,
}
SCHEMA: Schema = {
    "name": None,
    "default": None,
    "quotas": [{"type": None, "deliveryMethods": None, "total": None, "claimed": None, "unclaimed": None}],
    "countryLimit": {"type": None, "deliveryMethods": None, "countries": None},
    "providerConfiguration": {"conditions": [{"deliveryMethods": None, "countries": None, "fallbackChain": None}]},
    "cooldownConfiguration": {"sms": _COOLDOWN, "voice": _COOLDOWN, "email": _COOLDOWN, "whatsApp": _COOLDOWN},
    "fraudProtection": {
        "numberTypes": {"enabled": None, "refused": None},
        "prefixVelocity": {
            "enabled": None,
            "prefixLength": None,
            "distinctNumbers": None,
            "windowSeconds": None,
            "blockSeconds": None,
        },
        "numberHourlyCap": {"enabled": None, "limit": None},
    },
}
RULES = ("quotas", "countryLimit", "providerConfiguration", "cooldownConfiguration", "fraudProtection")
COOLDOWN_METHODS = ("sms", "voice", "email", "whatsApp")
# The defaults the server fills in (docs/policies.md, "Beyond PingOne").
REFUSED_TYPES = ["PREMIUM_RATE", "SHARED_COST", "UNKNOWN"]
VELOCITY = {"prefixLength": 7, "distinctNumbers": 20, "windowSeconds": 600, "blockSeconds": 3600}


def load(path: Path) -> list[dict[str, Any]]:
    """The policies of a file, fields checked (``null`` values left out, as if not given)."""
    policies: list[Any] = []
    for document in read_documents(path):
        policies.extend(document if isinstance(document, list) else [document])
    if not policies:
        raise UsageError(f"{path} holds no policy")
    checked = []
    for index, raw in enumerate(policies):
        label = f"{path}: policy {index + 1}"
        if not isinstance(raw, dict):
            raise UsageError(f"{label} is not a mapping of fields")
        if not isinstance(raw.get("name"), str) or not raw["name"].strip():
            raise UsageError(f"{label} has no name: apply finds policies by name")
        label += f" ({raw['name']})"
        body = _without_nulls(raw)
        details = _check(body, SCHEMA, "")
        if details:
            raise UsageError(f"{label} has fields the API does not take", details)
        checked.append(body)
    names = [body["name"].strip() for body in checked]
    if len(set(names)) != len(names):
        raise UsageError(f"{path} names a policy twice: {sorted({n for n in names if names.count(n) > 1})}")
    return checked


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _check(body: Any, schema: Schema, where: str) -> list[ErrorDetail]:
    if not isinstance(body, dict):
        return [ErrorDetail("INVALID_VALUE", "must be a mapping of fields", where.rstrip(".") or "(policy)")]
    details = []
    for name in sorted(set(body) - set(schema)):
        close = difflib.get_close_matches(name, sorted(schema), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        details.append(ErrorDetail("UNKNOWN_FIELD", f"unknown field {name!r}{hint}", f"{where}{name}"))
    for name, sub in schema.items():
        value = body.get(name)
        if value is None or sub is None:
            continue
        if isinstance(sub, dict):
            details.extend(_check(value, sub, f"{where}{name}."))
        elif not isinstance(value, list):
            details.append(ErrorDetail("INVALID_VALUE", "must be a list", f"{where}{name}"))
        else:
            for index, item in enumerate(value):
                details.extend(_check(item, sub[0], f"{where}{name}[{index}]."))
    return details


def resolve_chains(body: dict[str, Any], senders: list[dict[str, Any]], env_name: str) -> dict[str, Any]:
    """The body with every ``fallbackChain`` entry as ``{"id": SENDER_ID}`` (or PINGONE_TWILIO),
    senders named by name or id among ``senders`` (this environment's) only."""
    config = body.get("providerConfiguration")
    if not isinstance(config, dict) or not isinstance(config.get("conditions"), list):
        return body
    conditions = []
    for index, condition in enumerate(config["conditions"]):
        chain = condition.get("fallbackChain")
        if not isinstance(chain, list):
            conditions.append(condition)
            continue
        wanted = []
        for position, entry in enumerate(chain):
            if isinstance(entry, dict) and set(entry) in ({"id"}, {"name"}):
                entry = next(iter(entry.values()))
            if not isinstance(entry, str):
                raise UsageError(
                    f"providerConfiguration.conditions[{index}].fallbackChain[{position}]: "
                    "give a sender's name or id, {id: ...}, {name: ...} or PINGONE_TWILIO"
                )
            wanted.append(entry)
        ids = lookup.chain_entries(senders, wanted, env_name)
        conditions.append({**condition, "fallbackChain": [{"id": sender_id} for sender_id in ids]})
    return {**body, "providerConfiguration": {**config, "conditions": conditions}}


def stored_form(body: dict[str, Any]) -> dict[str, Any]:
    """The rules as the server stores and answers them, the defaults filled in."""
    limit = body.get("countryLimit")
    rules: dict[str, Any] = {
        "quotas": body.get("quotas"),
        "countryLimit": (
            {"type": "NONE", "countries": []}
            if not isinstance(limit, dict) or limit.get("type") == "NONE"
            else {
                "type": limit.get("type"),
                "deliveryMethods": limit.get("deliveryMethods", ["SMS", "Voice"]),
                "countries": limit.get("countries", []),
            }
        ),
        "cooldownConfiguration": body.get(
            "cooldownConfiguration", {method: {"enabled": False} for method in COOLDOWN_METHODS}
        ),
    }
    config = body.get("providerConfiguration")
    if isinstance(config, dict):
        rules["providerConfiguration"] = {
            "conditions": [
                {"deliveryMethods": ["SMS", "VOICE"], **c} if isinstance(c, dict) else c
                for c in config.get("conditions") or []
            ]
        }
    fraud = body.get("fraudProtection")
    if isinstance(fraud, dict):
        stored: dict[str, Any] = {}
        if isinstance(fraud.get("numberTypes"), dict):
            stored["numberTypes"] = {"refused": REFUSED_TYPES, **fraud["numberTypes"]}
        if isinstance(fraud.get("prefixVelocity"), dict):
            stored["prefixVelocity"] = {**VELOCITY, **fraud["prefixVelocity"]}
        if isinstance(fraud.get("numberHourlyCap"), dict):
            stored["numberHourlyCap"] = fraud["numberHourlyCap"]
        rules["fraudProtection"] = stored
    return rules


@dataclass
class Plan:
    """What applying one policy does: ``create``, ``update`` (the fields that differ) or ``unchanged``."""

    action: str
    changed: list[str] = field(default_factory=list)


def plan(current: dict[str, Any] | None, body: dict[str, Any]) -> Plan:
    """Compare a (chain-resolved) file policy with the server's policy of that name."""
    if current is None:
        return Plan("create", [key for key in ("default", *RULES) if key in body])
    wanted = stored_form(body)
    changed = [key for key in RULES if _canonical(wanted.get(key)) != _canonical(current.get(key))]
    if "default" in body and body["default"] != current.get("default"):
        changed.append("default")
    return Plan("update" if changed else "unchanged", changed)


def _canonical(value: Any) -> Any:
    """Mappings compared without regard to key order; lists keep theirs (the server keeps it)."""
    if isinstance(value, dict):
        return sorted((k, _canonical(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value
