"""What a notification policy's counters say now (``GET .../notificationsPolicies/{id}/usage``):
each quota's use in the current UTC day, one user's or number's use, and the blocks in force
(cooldown resend limits, tripped prefixes). Pure: the caller reads the counter rows.

The counter keys are the send path's (``quota_claim``, ``cooldown_rule``, ``VelocityRule``,
``hourly_claim``); this module reads them back into the subjects they count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.cooldowns import RESEND_LIMIT, series_prefix
from phone_delivery.domain.fraud_rules import HOUR_MS, PREFIX_VELOCITY, velocity_prefix
from phone_delivery.domain.policy_rules import POLICY_METHOD, day_window, quota_limit

PHONE_METHODS = frozenset(POLICY_METHOD.values())  # quotas of these are counted; Email ones are stored only
TOP = 10  # most used subjects shown per USER quota
BLOCKS_SHOWN = 50


def subject_json(subject: str) -> dict[str, Any]:
    """``user:u1`` -> ``{"user": {"id": "u1"}}``; ``number:+1...`` -> ``{"to": "+1..."}``."""
    kind, _, value = subject.partition(":")
    return {"user": {"id": value}} if kind == "user" else {"to": value}


def block_prefixes(policy_id: str) -> tuple[str, str]:
    """The key prefixes of the rows that can block: cooldown series and velocity prefixes."""
    return series_prefix(policy_id), velocity_prefix(policy_id)


def block_json(policy_id: str, key: str, blocked_until: int) -> dict[str, Any]:
    cooldown, velocity = block_prefixes(policy_id)
    until = iso_ms(blocked_until)
    if key.startswith(velocity):
        return {"rule": PREFIX_VELOCITY, "prefix": key[len(velocity) :], "until": until}
    method, _, subject = key[len(cooldown) :].partition(":")
    entry: dict[str, Any] = {"rule": RESEND_LIMIT, "deliveryMethod": "VOICE" if method == "voice" else "SMS"}
    if subject.startswith("user:"):
        user, _, to = subject[len("user:") :].rpartition(":")  # E.164 numbers hold no ':'
        entry |= {"user": {"id": user}, "to": to}
    else:
        entry["to"] = subject.partition(":")[2]
    return {**entry, "until": until}


@dataclass(frozen=True)
class QuotaCounts:
    """A USER quota's rows in the current day (``CounterRepository.quota_use``)."""

    subjects: int  # users (or numbers, for sends without user.id) with at least one unit
    used: int  # units taken in all
    at_limit: int  # subjects with none left
    top: list[tuple[str, int]]  # (subject, used), most used first


def quota_json(
    index: int,
    quota: dict[str, Any],
    now: int,
    counts: QuotaCounts | None,
    environment_used: int | None,
    subject: tuple[str, int] | None,
) -> dict[str, Any]:
    """One quota's use: ``counts`` for a USER quota, ``environment_used`` for an ENVIRONMENT one,
    ``subject`` (the one asked for, and its use) if any."""
    limit = quota_limit(quota)
    start, end = day_window(now)
    entry: dict[str, Any] = {
        "index": index,
        "type": quota["type"],
        "deliveryMethods": quota["deliveryMethods"],
        "limit": limit,
        "counted": bool(PHONE_METHODS & set(quota["deliveryMethods"])),
        "window": {"start": iso_ms(start), "end": iso_ms(end)},
    }
    if not entry["counted"]:
        return entry
    if quota["type"] == "ENVIRONMENT":
        used = environment_used or 0
        return entry | {"used": used, "remaining": max(0, limit - used)}
    counts = counts or QuotaCounts(0, 0, 0, [])
    entry |= {
        "subjects": counts.subjects,
        "used": counts.used,
        "subjectsAtLimit": counts.at_limit,
        "top": [{**subject_json(s), "used": used, "remaining": max(0, limit - used)} for s, used in counts.top],
    }
    if subject is not None:
        name, used = subject
        entry["subject"] = {**subject_json(name), "used": used, "remaining": max(0, limit - used)}
    return entry


def hourly_json(limit: int, now: int, to: str, used: int) -> dict[str, Any]:
    """One number's use of ``fraudProtection.numberHourlyCap`` in the current hour."""
    start = now - now % HOUR_MS
    return {
        "to": to,
        "limit": limit,
        "used": used,
        "remaining": max(0, limit - used),
        "window": {"start": iso_ms(start), "end": iso_ms(start + HOUR_MS)},
    }
