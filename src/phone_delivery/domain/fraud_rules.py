"""SMS-pumping defences beyond PingOne, per policy and off by default (``fraudProtection``).

Toll fraud sends OTPs to premium or foreign ranges that pay the attacker, typically to many different
numbers of one range in a short time. Three rules, each enabled on its own:

- ``numberTypes``: refuse destinations whose type (libphonenumber's) is in ``refused``, by default
  premium-rate, shared-cost and unknown;
- ``prefixVelocity``: more than ``distinctNumbers`` different numbers starting with the same
  ``prefixLength`` digits within a ``windowSeconds`` window trips the rule: sends to that prefix are
  refused for ``blockSeconds``, and the trip is recorded as an activity;
- ``numberHourlyCap``: at most ``limit`` sends to one number per UTC hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import phonenumbers
from phonenumbers import PhoneNumberType
from pydantic import BaseModel, ConfigDict

from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.errors import Detail, InvalidData, RequestLimited
from phone_delivery.domain.policy_rules import CounterClaim, Refusal, SendFacts

NUMBER_TYPE = "NUMBER_TYPE"
PREFIX_VELOCITY = "PREFIX_VELOCITY"
NUMBER_HOURLY_CAP = "NUMBER_HOURLY_CAP"
HOUR_MS = 3_600_000
NUMBER_TYPES = {
    "PREMIUM_RATE": PhoneNumberType.PREMIUM_RATE,
    "SHARED_COST": PhoneNumberType.SHARED_COST,
    "UNKNOWN": PhoneNumberType.UNKNOWN,
    "VOIP": PhoneNumberType.VOIP,
    "PERSONAL_NUMBER": PhoneNumberType.PERSONAL_NUMBER,
    "PAGER": PhoneNumberType.PAGER,
    "UAN": PhoneNumberType.UAN,
    "VOICEMAIL": PhoneNumberType.VOICEMAIL,
    "TOLL_FREE": PhoneNumberType.TOLL_FREE,
    "FIXED_LINE": PhoneNumberType.FIXED_LINE,
    "MOBILE": PhoneNumberType.MOBILE,
    "FIXED_LINE_OR_MOBILE": PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
TYPE_NAMES = {value: name for name, value in NUMBER_TYPES.items()}
DEFAULT_REFUSED = ["PREMIUM_RATE", "SHARED_COST", "UNKNOWN"]
# (field, minimum, maximum, default) of prefixVelocity
VELOCITY_FIELDS = (
    ("prefixLength", 3, 12, 7),
    ("distinctNumbers", 2, 100_000, 20),
    ("windowSeconds", 60, 86_400, 600),
    ("blockSeconds", 60, 86_400, 3_600),
)
NumberTypeName = Literal[
    "PREMIUM_RATE",
    "SHARED_COST",
    "UNKNOWN",
    "VOIP",
    "PERSONAL_NUMBER",
    "PAGER",
    "UAN",
    "VOICEMAIL",
    "TOLL_FREE",
    "FIXED_LINE",
    "MOBILE",
    "FIXED_LINE_OR_MOBILE",
]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class _NumberTypes(_Model):
    enabled: bool
    refused: list[NumberTypeName] | None = None


class _PrefixVelocity(_Model):
    enabled: bool
    prefixLength: int | None = None
    distinctNumbers: int | None = None
    windowSeconds: int | None = None
    blockSeconds: int | None = None


class _HourlyCap(_Model):
    enabled: bool
    limit: int | None = None


class FraudProtectionBody(_Model):
    numberTypes: _NumberTypes | None = None
    prefixVelocity: _PrefixVelocity | None = None
    numberHourlyCap: _HourlyCap | None = None


def _out_of_range(value: int, low: int, high: int, target: str) -> Detail | None:
    if low <= value <= high:
        return None
    name = target.rsplit(".", 1)[-1]
    return Detail(
        "OUT_OF_RANGE",
        f"{name} must be between {low} and {high}.",
        target,
        {"rangeMinimumValue": low, "rangeMaximumValue": high},
    )


def fraud_details(body: FraudProtectionBody) -> list[Detail]:
    details: list[Detail] = []
    if body.numberTypes is not None and body.numberTypes.refused is not None:
        target = "fraudProtection.numberTypes.refused"
        if body.numberTypes.enabled and not body.numberTypes.refused:
            details.append(Detail("REQUIRED_VALUE", "refused needs at least one number type.", target))
        if len(set(body.numberTypes.refused)) != len(body.numberTypes.refused):
            details.append(Detail("INVALID_VALUE", "A number type appears twice.", target))
    if body.prefixVelocity is not None:
        for field, low, high, _ in VELOCITY_FIELDS:
            value = getattr(body.prefixVelocity, field)
            if value is not None and (
                problem := _out_of_range(value, low, high, f"fraudProtection.prefixVelocity.{field}")
            ):
                details.append(problem)
    if body.numberHourlyCap is not None:
        cap = body.numberHourlyCap
        target = "fraudProtection.numberHourlyCap.limit"
        if cap.enabled and cap.limit is None:
            details.append(Detail("REQUIRED_VALUE", "limit is required when enabled is true.", target))
        if cap.limit is not None and (problem := _out_of_range(cap.limit, 1, 10_000, target)):
            details.append(problem)
    return details


def stored_fraud(body: FraudProtectionBody) -> dict[str, Any]:
    """The stored and answered form, defaults filled in."""
    stored: dict[str, Any] = {}
    if body.numberTypes is not None:
        refused = body.numberTypes.refused if body.numberTypes.refused is not None else DEFAULT_REFUSED
        stored["numberTypes"] = {"enabled": body.numberTypes.enabled, "refused": list(refused)}
    if body.prefixVelocity is not None:
        velocity = body.prefixVelocity
        stored["prefixVelocity"] = {"enabled": velocity.enabled} | {
            field: getattr(velocity, field) if getattr(velocity, field) is not None else default
            for field, _, _, default in VELOCITY_FIELDS
        }
    if body.numberHourlyCap is not None:
        cap = body.numberHourlyCap
        stored["numberHourlyCap"] = {"enabled": cap.enabled, **({"limit": cap.limit} if cap.limit is not None else {})}
    return stored


def _section(rules: dict[str, Any], name: str) -> dict[str, Any] | None:
    section = (rules.get("fraudProtection") or {}).get(name)
    return section if section and section.get("enabled") else None


def number_type_refusal(policy_name: str, rules: dict[str, Any], send: SendFacts) -> Refusal | None:
    section = _section(rules, "numberTypes")
    if section is None:
        return None
    kind = TYPE_NAMES.get(phonenumbers.number_type(phonenumbers.parse(send.to, None)), "UNKNOWN")
    if kind not in section["refused"]:
        return None
    message = (
        f"The notification policy '{policy_name}' refuses {kind} numbers "
        "(fraudProtection.numberTypes): this number is one."
    )
    return Refusal(NUMBER_TYPE, InvalidData.single("INVALID_VALUE", "to", message), message)


def hourly_claim(
    policy_id: str, policy_name: str, rules: dict[str, Any], send: SendFacts, now: int
) -> CounterClaim | None:
    section = _section(rules, "numberHourlyCap")
    if section is None:
        return None
    limit = int(section["limit"])
    start = now - now % HOUR_MS

    def refuse() -> Refusal:
        retry_after = max(1, math.ceil((start + HOUR_MS - now) / 1000))
        message = (
            f"The notification policy '{policy_name}' allows {limit} notifications to one number per hour "
            f"(fraudProtection.numberHourlyCap); this number's resets at {iso_ms(start + HOUR_MS)}."
        )
        error = RequestLimited(
            "The request was rate limited: too many notifications to this number this hour.",
            [Detail("LIMIT_EXCEEDED", message, "to", {"quotaLimit": limit, "retryAfter": retry_after})],
            retry_after=retry_after,
        )
        return Refusal(NUMBER_HOURLY_CAP, error, message)

    return CounterClaim(hourly_key(policy_id, send.to), start, limit, refuse)


def velocity_prefix(policy_id: str) -> str:
    """Where a policy's prefix counters start: ``velocity:{policy}:`` and the number prefix."""
    return f"velocity:{policy_id}:"


def hourly_key(policy_id: str, to: str) -> str:
    return f"hourly:{policy_id}:{to}"


@dataclass(frozen=True)
class VelocityRule:
    policy_id: str
    policy_name: str
    prefix: str  # "+" and the first prefixLength digits
    distinct: int
    window_ms: int
    block_ms: int

    @property
    def prefix_key(self) -> str:
        return velocity_prefix(self.policy_id) + self.prefix

    def number_key(self, to: str) -> str:
        return f"velocity-seen:{self.policy_id}:{to}"

    def window(self, now: int) -> int:
        return now - now % self.window_ms

    def refusal(self, until: int, now: int, *, tripped: bool) -> Refusal:
        retry_after = max(1, math.ceil((until - now) / 1000))
        message = (
            f"The notification policy '{self.policy_name}' refuses sends to numbers starting with {self.prefix} "
            f"until {iso_ms(until)}: more than {self.distinct} different numbers of that prefix within "
            f"{self.window_ms // 1000} seconds (fraudProtection.prefixVelocity)."
        )
        error = RequestLimited(
            "The request was rate limited: too many different numbers of this prefix.",
            [Detail("LIMIT_EXCEEDED", message, "to", {"retryAfter": retry_after})],
            retry_after=retry_after,
        )
        return Refusal(PREFIX_VELOCITY, error, message + (" The rule tripped." if tripped else ""))


def velocity_rule(policy_id: str, policy_name: str, rules: dict[str, Any], send: SendFacts) -> VelocityRule | None:
    section = _section(rules, "prefixVelocity")
    if section is None:
        return None
    return VelocityRule(
        policy_id,
        policy_name,
        send.to[: 1 + int(section["prefixLength"])],
        int(section["distinctNumbers"]),
        int(section["windowSeconds"]) * 1000,
        int(section["blockSeconds"]) * 1000,
    )
