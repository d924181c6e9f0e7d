"""PingOne's notification policies: what a policy body may say, and the stored form of one.

A policy limits sends (``quotas`` per user or environment per UTC day, ``countryLimit``), routes
them (``providerConfiguration.conditions``: a sender chain per country and method, replacing the
environment's chain) and spaces resends (``cooldownConfiguration``). Every environment has exactly
one default policy. The rules here follow PingOne's API reference and Ping's OpenAPI schemas
(``NotificationsPolicy*``); where PingOne is silent the choice is in ``docs/policies.md``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from phone_delivery.domain.errors import Detail, InvalidData
from phone_delivery.domain.fraud_rules import FraudProtectionBody, fraud_details, stored_fraud
from phone_delivery.domain.notifications import PINGONE_TWILIO
from phone_delivery.domain.validation import parse

RESOURCE_TYPE = "NOTIFICATION_POLICY"
DEFAULT_POLICY_NAME = "Default Notification Policy"
MAX_POLICIES_PER_ENVIRONMENT = 100
MAX_COUNT = 2_147_483_647  # PingOne's integers are 32-bit
COOLDOWN_METHODS = ("sms", "voice", "email", "whatsApp")
# (minimum, maximum) of a cooldown period's duration per time unit
PERIOD_RANGES = {"SECONDS": (10, 600), "MINUTES": (1, 10)}
RESEND_LIMIT_RANGE = (1, 10)
BLOCK_MS = 30 * 60 * 1000  # after resendLimit, PingOne blocks for 30 minutes

# ISO 3166-1 alpha-2, exactly the codes Ping's OpenAPI file accepts (``countries`` items).
ISO_COUNTRY = re.compile(
    r"^(A(D|E|F|G|I|L|M|N|O|R|S|T|Q|U|W|X|Z)|B(A|B|D|E|F|G|H|I|J|L|M|N|O|R|S|T|V|W|Y|Z)"
    r"|C(A|C|D|F|G|H|I|K|L|M|N|O|R|U|V|X|Y|Z)|D(E|J|K|M|O|Z)|E(C|E|G|H|R|S|T)|F(I|J|K|M|O|R)"
    r"|G(A|B|D|E|F|G|H|I|L|M|N|P|Q|R|S|T|U|W|Y)|H(K|M|N|R|T|U)|I(D|E|Q|L|M|N|O|R|S|T)|J(E|M|O|P)"
    r"|K(E|G|H|I|M|N|P|R|W|Y|Z)|L(A|B|C|I|K|R|S|T|U|V|Y)"
    r"|M(A|C|D|E|F|G|H|K|L|M|N|O|Q|P|R|S|T|U|V|W|X|Y|Z)|N(A|C|E|F|G|I|L|O|P|R|U|Z)|OM"
    r"|P(A|E|F|G|H|K|L|M|N|R|S|T|W|Y)|QA|R(E|O|S|U|W)|S(A|B|C|D|E|G|H|I|J|K|L|M|N|O|R|T|V|Y|Z)"
    r"|T(C|D|F|G|H|J|K|L|M|N|O|R|T|V|W|Z)|U(A|G|M|S|Y|Z)|V(A|C|E|G|I|N|U)|W(F|S)|Y(E|T)|Z(A|M|W))$"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_Short = Annotated[str, StringConstraints(max_length=64)]


class _Model(BaseModel):
    # Read-only fields sent back on PUT (id, _links, createdAt, ...) are ignored, as PingOne does.
    model_config = ConfigDict(strict=True, extra="ignore")


class _Quota(_Model):
    type: Literal["USER", "ENVIRONMENT"]
    deliveryMethods: list[Literal["SMS", "Voice", "Email"]]
    total: int | None = None
    claimed: int | None = None
    unclaimed: int | None = None


class _CountryLimit(_Model):
    type: Literal["NONE", "ALLOWED", "DENIED"]
    deliveryMethods: list[Literal["SMS", "Voice"]] | None = None
    countries: list[_Short] | None = None


class _ChainEntry(_Model):
    id: _Short


class _Condition(_Model):
    deliveryMethods: list[Literal["SMS", "VOICE"]] | None = None
    countries: list[_Short] | None = None
    fallbackChain: list[_ChainEntry]


class _ProviderConfiguration(_Model):
    conditions: list[_Condition]


class _Period(_Model):
    duration: int
    timeUnit: Literal["SECONDS", "MINUTES"]


class _Cooldown(_Model):
    enabled: bool
    periods: list[_Period] | None = None
    groupBy: Literal["USER_ID"] | None = None
    resendLimit: int | None = None


class _CooldownConfiguration(_Model):
    sms: _Cooldown
    voice: _Cooldown
    email: _Cooldown
    whatsApp: _Cooldown


class PolicyBody(_Model):
    """A notification policy as POST and PUT take it."""

    name: Annotated[str, StringConstraints(max_length=256)]
    default: bool | None = None
    quotas: list[_Quota]
    countryLimit: _CountryLimit | None = None
    providerConfiguration: _ProviderConfiguration | None = None
    cooldownConfiguration: _CooldownConfiguration | None = None
    fraudProtection: FraudProtectionBody | None = None  # ours, beyond PingOne: docs/policies.md


def new_policy_id() -> str:
    return str(uuid.uuid4())


def _range(value: int, low: int, high: int, target: str, what: str) -> Detail | None:
    if low <= value <= high:
        return None
    return Detail(
        "OUT_OF_RANGE",
        f"{what} must be between {low} and {high}.",
        target,
        {"rangeMinimumValue": low, "rangeMaximumValue": high},
    )


def _size(items: list[Any], low: int, high: int, target: str) -> Detail | None:
    if len(items) < low:
        return Detail("REQUIRED_VALUE" if low == 1 else "INVALID_VALUE", f"{target} needs at least {low}.", target)
    if len(items) > high:
        return Detail("SIZE_LIMIT_EXCEEDED", f"{target} has more than {high}.", target, {"maximumValue": high})
    return None


def _countries(countries: list[str], target: str) -> list[Detail]:
    details = []
    seen: set[str] = set()
    for index, code in enumerate(countries):
        where = f"{target}[{index}]"
        if not ISO_COUNTRY.fullmatch(code):
            message = (
                "Country codes are written in capitals (ISO 3166-1 alpha-2, such as DE)."
                if ISO_COUNTRY.fullmatch(code.upper())
                else "Not an ISO 3166-1 alpha-2 country code (such as DE)."
            )
            details.append(Detail("INVALID_VALUE", message, where, {"allowedPattern": "^[A-Z]{2}$"}))
        elif code in seen:
            details.append(Detail("INVALID_VALUE", "A country appears twice.", where))
        seen.add(code)
    return details


def _unique(methods: list[str], target: str) -> list[Detail]:
    if len(set(methods)) != len(methods):
        return [Detail("INVALID_VALUE", "A delivery method appears twice.", target)]
    return []


def _quota_details(quotas: list[_Quota]) -> list[Detail]:
    details: list[Detail] = []
    if len(quotas) > 2:
        return [
            Detail(
                "SIZE_LIMIT_EXCEEDED",
                "At most two quotas: one for SMS and Voice, one for Email.",
                "quotas",
                {"maximumValue": 2},
            )
        ]
    groups: dict[str, int] = {}
    for index, quota in enumerate(quotas):
        target = f"quotas[{index}]"
        methods = quota.deliveryMethods
        if not methods:
            details.append(
                Detail("REQUIRED_VALUE", "deliveryMethods needs at least one method.", f"{target}.deliveryMethods")
            )
            continue
        details += _unique(list(methods), f"{target}.deliveryMethods")
        if "Email" in methods and len(set(methods)) > 1:
            details.append(
                Detail(
                    "INVALID_VALUE",
                    "Email has a quota of its own: deliveryMethods is SMS and/or Voice, or Email.",
                    f"{target}.deliveryMethods",
                )
            )
            continue
        group = "Email" if "Email" in methods else "SMS/Voice"
        if group in groups:
            details.append(
                Detail(
                    "INVALID_VALUE",
                    f"quotas[{groups[group]}] is already the {group} quota: at most one quota for {group}.",
                    f"{target}.deliveryMethods",
                )
            )
        groups.setdefault(group, index)
        pair = (quota.claimed, quota.unclaimed)
        if quota.total is not None and pair != (None, None):
            details.append(
                Detail("INVALID_VALUE", "Use either total, or claimed and unclaimed, not both.", f"{target}.total")
            )
        elif quota.total is None and None in pair:
            missing = "total" if pair == (None, None) else ("claimed" if quota.claimed is None else "unclaimed")
            message = (
                "A quota has a total, or claimed and unclaimed."
                if missing == "total"
                else "claimed and unclaimed go together."
            )
            details.append(Detail("REQUIRED_VALUE", message, f"{target}.{missing}"))
        for field in ("total", "claimed", "unclaimed"):
            value = getattr(quota, field)
            if value is not None and (problem := _range(value, 1, MAX_COUNT, f"{target}.{field}", field)):
                details.append(problem)
    return details


def _country_limit_details(limit: _CountryLimit) -> list[Detail]:
    details: list[Detail] = []
    if limit.deliveryMethods is not None:
        if limit.type == "NONE":
            details.append(
                Detail(
                    "INVALID_VALUE",
                    "deliveryMethods applies only to an ALLOWED or DENIED limit.",
                    "countryLimit.deliveryMethods",
                )
            )
        elif problem := _size(limit.deliveryMethods, 1, 2, "countryLimit.deliveryMethods"):
            details.append(problem)
        details += _unique(list(limit.deliveryMethods), "countryLimit.deliveryMethods")
    if limit.type != "NONE":
        if not limit.countries:
            details.append(
                Detail(
                    "REQUIRED_VALUE",
                    f"countries is required when type is {limit.type}.",
                    "countryLimit.countries",
                )
            )
        elif problem := _size(limit.countries, 1, 300, "countryLimit.countries"):
            details.append(problem)
    details += _countries(limit.countries or [], "countryLimit.countries")
    return details


def _provider_details(config: _ProviderConfiguration, sender_ids: Collection[str]) -> list[Detail]:
    details: list[Detail] = []
    conditions = config.conditions
    if problem := _size(conditions, 1, 50, "providerConfiguration.conditions"):
        return [problem]
    for index, condition in enumerate(conditions):
        target = f"providerConfiguration.conditions[{index}]"
        if condition.deliveryMethods is not None:
            if problem := _size(condition.deliveryMethods, 1, 2, f"{target}.deliveryMethods"):
                details.append(problem)
            details += _unique(list(condition.deliveryMethods), f"{target}.deliveryMethods")
        if condition.countries is not None:
            if problem := _size(condition.countries, 1, 300, f"{target}.countries"):
                details.append(problem)
            details += _countries(condition.countries, f"{target}.countries")
        if problem := _size(condition.fallbackChain, 1, 11, f"{target}.fallbackChain"):
            details.append(problem)
        seen: set[str] = set()
        for position, entry in enumerate(condition.fallbackChain):
            where = f"{target}.fallbackChain[{position}].id"
            if entry.id in seen:
                details.append(Detail("INVALID_VALUE", "A sender appears twice in the chain.", where))
            seen.add(entry.id)
            if entry.id != PINGONE_TWILIO and entry.id not in sender_ids:
                details.append(
                    Detail(
                        "INVALID_VALUE",
                        "Not a phone delivery settings id of this environment, nor PINGONE_TWILIO.",
                        where,
                    )
                )
    if conditions[-1].countries is not None:
        details.append(
            Detail(
                "INVALID_VALUE",
                "The last condition is the catch-all: it must not have countries.",
                f"providerConfiguration.conditions[{len(conditions) - 1}].countries",
            )
        )
    return details


def _cooldown_details(config: _CooldownConfiguration) -> list[Detail]:
    details: list[Detail] = []
    for method in COOLDOWN_METHODS:
        cooldown: _Cooldown = getattr(config, method)
        target = f"cooldownConfiguration.{method}"
        if cooldown.enabled and cooldown.periods is None:
            details.append(Detail("REQUIRED_VALUE", "periods is required when enabled is true.", f"{target}.periods"))
        if cooldown.periods is not None:
            if len(cooldown.periods) != 3:
                details.append(
                    Detail(
                        "INVALID_VALUE",
                        "periods has exactly three entries: before the first, the second, and any later retry.",
                        f"{target}.periods",
                    )
                )
            for index, period in enumerate(cooldown.periods):
                low, high = PERIOD_RANGES[period.timeUnit]
                where = f"{target}.periods[{index}].duration"
                if problem := _range(period.duration, low, high, where, f"A duration in {period.timeUnit}"):
                    details.append(problem)
        if cooldown.enabled and cooldown.resendLimit is None:
            details.append(
                Detail("REQUIRED_VALUE", "resendLimit is required when enabled is true.", f"{target}.resendLimit")
            )
        if cooldown.resendLimit is not None and (
            problem := _range(cooldown.resendLimit, *RESEND_LIMIT_RANGE, f"{target}.resendLimit", "resendLimit")
        ):
            details.append(problem)
    return details


def parse_policy(body: dict[str, Any], sender_ids: Collection[str]) -> tuple[str, bool | None, dict[str, Any]]:
    """The name, the ``default`` asked for (None: not given) and the stored rules of a policy body;
    every sender of a chain must be one of ``sender_ids`` (this environment's) or PINGONE_TWILIO."""
    model = parse(PolicyBody, body)
    details: list[Detail] = []
    name = model.name.strip()
    if not name:
        details.append(Detail("EMPTY_VALUE", "name must not be empty.", "name"))
    elif _CONTROL.search(name):
        details.append(Detail("INVALID_VALUE", "name must not contain control characters.", "name"))
    details += _quota_details(model.quotas)
    if model.countryLimit is not None:
        details += _country_limit_details(model.countryLimit)
    if model.providerConfiguration is not None:
        details += _provider_details(model.providerConfiguration, sender_ids)
    if model.cooldownConfiguration is not None:
        details += _cooldown_details(model.cooldownConfiguration)
    if model.fraudProtection is not None:
        details += fraud_details(model.fraudProtection)
    if details:
        raise InvalidData(details=details)
    return name, model.default, stored_rules(model)


def stored_rules(model: PolicyBody) -> dict[str, Any]:
    """What is stored and answered: PingOne's fields with their defaults filled in."""
    limit = model.countryLimit
    rules: dict[str, Any] = {
        "quotas": [q.model_dump(exclude_none=True) for q in model.quotas],
        "countryLimit": (
            {"type": "NONE", "countries": []}
            if limit is None or limit.type == "NONE"
            else {
                "type": limit.type,
                "deliveryMethods": list(limit.deliveryMethods or ["SMS", "Voice"]),
                "countries": list(limit.countries or []),
            }
        ),
        "cooldownConfiguration": (
            model.cooldownConfiguration.model_dump(exclude_none=True)
            if model.cooldownConfiguration is not None
            else {method: {"enabled": False} for method in COOLDOWN_METHODS}
        ),
    }
    if model.providerConfiguration is not None:
        rules["providerConfiguration"] = {
            "conditions": [
                {
                    "deliveryMethods": list(c.deliveryMethods or ["SMS", "VOICE"]),
                    **({"countries": list(c.countries)} if c.countries is not None else {}),
                    "fallbackChain": [{"id": e.id} for e in c.fallbackChain],
                }
                for c in model.providerConfiguration.conditions
            ]
        }
    if model.fraudProtection is not None:
        rules["fraudProtection"] = stored_fraud(model.fraudProtection)
    return rules


def default_rules() -> dict[str, Any]:
    """The default policy every new environment gets: no limits, so that nothing changes until an
    administrator sets some (docs/policies.md)."""
    return stored_rules(PolicyBody(name=DEFAULT_POLICY_NAME, quotas=[]))


def chain_senders(rules: dict[str, Any]) -> list[tuple[str, str]]:
    """(sender id, target) of every chain entry of the policy's routing conditions."""
    found = []
    for index, condition in enumerate((rules.get("providerConfiguration") or {}).get("conditions", [])):
        for position, entry in enumerate(condition["fallbackChain"]):
            found.append((entry["id"], f"providerConfiguration.conditions[{index}].fallbackChain[{position}].id"))
    return found
