"""What a notification policy decides about one send: refuse it (delivery mode, country limit), the
chain it goes through (routing conditions), and which counters it must take (quotas).

Pure: the caller reads the policy and the settings (``SendFacts``) and applies the counters in the
transaction that writes the notification.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import phonenumbers

from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.errors import Detail, DomainError, InvalidData, RequestLimited

DAY_MS = 86_400_000
# The policy's names of the delivery methods (quotas and countryLimit say "Voice", conditions "VOICE").
POLICY_METHOD = {"SMS": "SMS", "VOICE": "Voice"}
METHOD_WORDS = {"SMS": "SMS", "VOICE": "voice calls"}

# Rules a refusal names (the ``rule`` label of the refusals metric, the activity's description).
DELIVERY_MODE = "DELIVERY_MODE"
COUNTRY_LIMIT = "COUNTRY_LIMIT"
QUOTA = "QUOTA"


@dataclass(frozen=True)
class SendFacts:
    """One send as the rules see it."""

    delivery_method: str  # SMS or VOICE
    to: str  # E.164
    country: str | None  # ISO alpha-2, or phonenumbers' "001" for non-geographic numbers
    user_id: str | None


@dataclass(frozen=True)
class Refusal:
    """A send the policy refuses: the rule, the error the client gets, and the activity's reason."""

    rule: str
    error: DomainError
    reason: str
    trip: str | None = None  # a rule that tripped now (prefixVelocity): the activity's description


@dataclass(frozen=True)
class CounterClaim:
    """One unit the send must take from a counter; ``refusal()`` when the counter has none left (built
    only then: most sends never need it)."""

    key: str
    window_start: int
    limit: int
    refuse: Callable[[], Refusal]

    def refusal(self) -> Refusal:
        return self.refuse()


def country_label(to: str, country: str | None) -> str:
    """'Germany (DE)' for a German number; the code alone when phonenumbers has no English name."""
    # Imported here, on a refusal only: the geocoder's data takes ~100 ms to load and much memory.
    from phonenumbers import geocoder

    code = country or "unknown"
    try:
        name = geocoder.country_name_for_number(phonenumbers.parse(to, None), "en")
    except phonenumbers.NumberParseException:
        name = ""
    return f"{name} ({code})" if name else code


def delivery_mode_refusal(delivery_mode: str, whitelist: frozenset[str], send: SendFacts) -> Refusal | None:
    """``deliveryMode: WHITELIST``: only users on the settings' whitelist receive notifications."""
    if delivery_mode != "WHITELIST" or (send.user_id is not None and send.user_id in whitelist):
        return None
    message = (
        "The environment's deliveryMode is WHITELIST: only users on the notificationsSettings whitelist "
        "receive notifications, and "
        + ("this user is not on it." if send.user_id is not None else "this request names no user.id.")
    )
    return Refusal(DELIVERY_MODE, InvalidData.single("INVALID_VALUE", "user.id", message), message)


def country_refusal(policy_name: str, rules: dict[str, Any], send: SendFacts) -> Refusal | None:
    limit = rules.get("countryLimit") or {}
    kind = limit.get("type", "NONE")
    if kind == "NONE" or POLICY_METHOD[send.delivery_method] not in limit.get("deliveryMethods", ["SMS", "Voice"]):
        return None
    listed = send.country in limit.get("countries", [])
    if (kind == "ALLOWED" and listed) or (kind == "DENIED" and not listed):
        return None
    where = country_label(send.to, send.country)
    verb = "allows only" if kind == "ALLOWED" else "denies"
    message = (
        f"The notification policy '{policy_name}' does not allow {METHOD_WORDS[send.delivery_method]} to "
        f"{where}: its countryLimit {verb} {', '.join(limit.get('countries', []))}."
    )
    return Refusal(COUNTRY_LIMIT, InvalidData.single("INVALID_VALUE", "to", message), message)


def routed_chain(rules: dict[str, Any], send: SendFacts) -> list[str] | None:
    """The chain of the first routing condition that matches the send's method and country; None
    when no condition matches (the environment's chain applies)."""
    for condition in (rules.get("providerConfiguration") or {}).get("conditions", []):
        if send.delivery_method not in condition["deliveryMethods"]:
            continue
        countries = condition.get("countries")
        if countries is None or send.country in countries:
            return [entry["id"] for entry in condition["fallbackChain"]]
    return None


ENVIRONMENT_SUBJECT = "environment"


def quota_prefix(policy_id: str) -> str:
    """Where a policy's quota counters start: ``quota:{policy}:`` and the subject counted."""
    return f"quota:{policy_id}:"


def user_subject(user_id: str) -> str:
    return f"user:{user_id}"


def number_subject(to: str) -> str:
    return f"number:{to}"


def quota_limit(quota: dict[str, Any]) -> int:
    # Every send counts as unclaimed: phone-delivery never learns that a user responded.
    return int(quota["total"] if "total" in quota else quota["unclaimed"])


def day_window(now: int) -> tuple[int, int]:
    """(start, end) of the UTC day ``now`` is in, epoch milliseconds."""
    start = now - now % DAY_MS
    return start, start + DAY_MS


def quota_claim(
    policy_id: str, policy_name: str, rules: dict[str, Any], send: SendFacts, whitelisted: bool, now: int
) -> CounterClaim | None:
    """The quota unit this send takes, if a quota of the policy covers its method. Users on the
    whitelist are exempt. A USER quota of a send without ``user.id`` counts per destination number."""
    if whitelisted:
        return None
    method = POLICY_METHOD[send.delivery_method]
    for index, quota in enumerate(rules.get("quotas", [])):
        if method not in quota["deliveryMethods"]:
            continue
        limit = quota_limit(quota)
        if quota["type"] == "ENVIRONMENT":
            subject, per, target = ENVIRONMENT_SUBJECT, "in the environment", None
        elif send.user_id is not None:
            subject, per, target = user_subject(send.user_id), "per user", "user.id"
        else:
            subject, per, target = number_subject(send.to), "per number (the request names no user.id)", "to"
        start, end = day_window(now)
        refuse = partial(_quota_refusal, policy_name, index, quota, limit, per, target, end, now)
        return CounterClaim(quota_prefix(policy_id) + subject, start, limit, refuse)
    return None


def _quota_refusal(
    policy_name: str, index: int, quota: dict[str, Any], limit: int, per: str, target: str | None, end: int, now: int
) -> Refusal:
    retry_after = max(1, math.ceil((end - now) / 1000))
    reset = iso_ms(end)
    methods = " and ".join(quota["deliveryMethods"])
    message = (
        f"The notification policy '{policy_name}' allows {limit} {methods} notifications {per} per day "
        f"(quotas[{index}], {quota['type']}); the quota resets at {reset}."
    )
    error = RequestLimited(
        "The request was rate limited: a notification quota is used up.",
        [
            Detail(
                "QUOTA_EXCEEDED",
                message,
                target,
                {"quotaLimit": limit, "quotaResetTime": reset, "retryAfter": retry_after},
            )
        ],
        retry_after=retry_after,
    )
    return Refusal(QUOTA, error, message)
