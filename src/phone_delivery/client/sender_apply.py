"""``senders apply``: what a sender file asks for, compared with what the server has.

Secrets are write-only: the server never returns them, so they cannot be compared. A sender is
*unchanged* when every non-secret field the file manages equals the server's, and then nothing is
sent (no PUT, no ``PHONE_DELIVERY_SETTINGS.UPDATED`` activity). A changed secret alone is sent with
``--force``. (For the Twilio and Syniverse kinds the server refuses a changed ``authToken`` anyway:
their token is fixed when the sender is created.)

Lists the provider's account fills in (Messaging Services, Twilio and Syniverse numbers, channels)
are the server's; the file only chooses which are ``selected`` (and, for numbers, their
``supportedCountries``). An item the file does not mark ``selected: true`` is not selected. A field
the file leaves out keeps the server's value.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from phone_delivery.client.errors import ClientError, UsageError
from phone_delivery.client.sender_files import AUTH_FIELDS, secret_paths

META = {"_links", "_embedded", "id", "environment", "createdAt", "updatedAt"}
CUSTOM_PROVIDER = "CUSTOM_PROVIDER"
# Filled in from the provider's account: not part of the first step (POST), chosen in the second (PUT).
SECOND_STEP = {
    "CUSTOM_TWILIO": {"numbers"},
    "CUSTOM_TWILIO_MESSAGING_SERVICE": {"messagingServices"},
    "CUSTOM_SYNIVERSE": {"numbers"},
    "CUSTOM_SYNIVERSE_CHANNELS": {
        "channels",
        "deliveryConfigurationsExist",
        "smsTopicSubscription",
        "voiceTopicSubscription",
    },
}
ITEM_NAMES = {"messagingServices": "Messaging Service", "channels": "channel", "numbers": "number"}


@dataclass
class Plan:
    """What applying one sender does: ``create``, ``update`` or nothing (``unchanged``)."""

    action: str
    changed: list[str] = field(default_factory=list)
    body: dict[str, Any] | None = None  # the request body, secrets included: never print it


def create_body(desired: dict[str, Any]) -> dict[str, Any]:
    """PingOne's first step: the account's lists do not exist before the account is read."""
    skip = SECOND_STEP.get(str(desired["provider"]), set())
    return {k: v for k, v in desired.items() if k not in skip}


def _without_secrets(body: dict[str, Any]) -> dict[str, Any]:
    clean = copy.deepcopy(body)
    for path in secret_paths(body):
        holder: Any = clean
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(holder, dict):
            holder.pop(path[-1], None)
    return clean


def _matches(item: dict[str, Any], wanted: dict[str, Any], id_key: str) -> bool:
    if wanted.get(id_key) is not None:
        return bool(item.get(id_key) == wanted[id_key])
    return wanted.get("name") is not None and item.get("name") == wanted["name"]


def _selection(current: list[dict[str, Any]], wanted: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The server's items, ``selected`` as the file says (items matched by id or by name)."""
    id_key = "messagingServiceId" if key == "messagingServices" else "id"
    result = [dict(item, selected=False) for item in current]
    for index, want in enumerate(wanted):
        found = [item for item in result if _matches(item, want, id_key)]
        if not found:
            if want.get(id_key) is None:
                names = ", ".join(repr(i.get("name")) for i in current) or "none"
                raise UsageError(
                    f"{key}[{index}]: the account has no {ITEM_NAMES[key]} named {want.get('name')!r} (it has: {names})"
                )
            result.append({id_key: want[id_key], "selected": bool(want.get("selected", False))})
            continue  # the server answers for an id it does not know
        for item in found:
            item["selected"] = bool(want.get("selected", False))
    return result


def _account_numbers(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_number = {str(w.get("number")): w for w in wanted}
    result = []
    for item in current:
        want = by_number.pop(str(item.get("number")), None)
        merged = {k: v for k, v in item.items() if k != "supportedCountries"}
        merged["selected"] = bool(want.get("selected", False)) if want else False
        if want and want.get("supportedCountries") is not None:
            merged["supportedCountries"] = want["supportedCountries"]
        result.append(merged)
    result.extend({k: v for k, v in want.items() if v is not None} for want in by_number.values())
    return result


def _custom_number(item: dict[str, Any]) -> dict[str, Any]:
    """A custom provider's number as the server stores it (defaults filled in)."""
    stored = {
        "number": item.get("number"),
        "type": item.get("type"),
        "selected": item.get("selected", False),
        "available": item.get("available", False),
        "capabilities": list(item.get("capabilities") or []),
    }
    if item.get("supportedCountries") is not None:
        stored["supportedCountries"] = item["supportedCountries"]
    return stored


def _request(item: dict[str, Any]) -> dict[str, Any]:
    stored = {k: v for k, v in item.items() if v is not None}
    stored.setdefault("phoneNumberFormat", "FULL")
    return stored


def target(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The sender as it should be after applying ``desired`` to ``current`` (no secrets)."""
    provider = str(current.get("provider"))
    result = {k: copy.deepcopy(v) for k, v in current.items() if k not in META}
    for key, value in _without_secrets(desired).items():
        if key in ("messagingServices", "channels"):
            result[key] = _selection(list(current.get(key) or []), list(value or []), key)
        elif key == "numbers" and provider != CUSTOM_PROVIDER:
            result[key] = _account_numbers(list(current.get(key) or []), list(value or []))
        elif key == "numbers":
            result[key] = [_custom_number(item) for item in value or []]
        elif key == "requests":
            result[key] = [_request(item) for item in value or []]
        elif key == "authentication" and isinstance(value, dict):
            plain = AUTH_FIELDS.get(str(value.get("method")), (set(), set()))[0]
            result[key] = {"method": value.get("method"), **{n: value.get(n) for n in sorted(plain)}}
        elif key == "name" and isinstance(value, str):
            result[key] = value.strip()
        else:
            result[key] = copy.deepcopy(value)
    return result


def with_secrets(body: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """``body`` plus the secrets of the file (a PUT is a full replacement, secrets included)."""
    full = copy.deepcopy(body)
    for path in secret_paths(desired):
        source: Any = desired
        holder: Any = full
        for key in path[:-1]:
            source = source.get(key) if isinstance(source, dict) else None
            holder = holder.setdefault(key, {}) if isinstance(holder, dict) else None
        if isinstance(source, dict) and path[-1] in source and isinstance(holder, dict):
            holder[path[-1]] = source[path[-1]]
    return full


def plan(current: dict[str, Any] | None, desired: dict[str, Any], *, force: bool = False) -> Plan:
    """Create when there is no sender of that name; update when a managed field differs (or with
    ``force``); otherwise nothing."""
    if current is None:
        return Plan("create", sorted(k for k in desired if k != "provider"), create_body(desired))
    if current.get("provider") != desired.get("provider"):
        raise ClientError(
            "PROVIDER_MISMATCH",
            f"the sender {current.get('name')!r} is a {current.get('provider')} sender; the file says "
            f"{desired.get('provider')}. The provider cannot change: delete the sender or rename it in the file.",
        )
    wanted = target(current, desired)
    changed = sorted(k for k in (set(wanted) | set(current)) - META if wanted.get(k) != current.get(k))
    if not changed and not force:
        return Plan("unchanged")
    secrets = [".".join(p) for p in secret_paths(desired) if _has(desired, p)]
    return Plan("update", changed or [f"{s} (--force)" for s in secrets], with_secrets(wanted, desired))


def _has(body: dict[str, Any], path: tuple[str, ...]) -> bool:
    holder: Any = body
    for key in path:
        if not isinstance(holder, dict) or key not in holder:
            return False
        holder = holder[key]
    return True
