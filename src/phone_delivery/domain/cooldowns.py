"""PingOne's notification cooldowns: how long a user must wait before another notification to the
same number (or the same user at that number, ``groupBy: USER_ID``), and the 30-minute block after
``resendLimit`` resends.

A series starts with a send. ``periods[0]`` is the wait before the first resend, ``periods[1]``
before the second, ``periods[2]`` before every later one. Once ``resendLimit`` resends went out, the
next request blocks the number for 30 minutes. A series ends 30 minutes after its last send, or when
a block ends. Requests refused for waiting too little are not resends and do not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.errors import Detail, RequestLimited

BLOCK_MS = 30 * 60 * 1000
SERIES_IDLE_MS = 30 * 60 * 1000
UNIT_MS = {"SECONDS": 1000, "MINUTES": 60_000}
COOLDOWN_KEY = {"SMS": "sms", "VOICE": "voice"}
COOLDOWN = "COOLDOWN"
RESEND_LIMIT = "RESEND_LIMIT"


@dataclass(frozen=True)
class CooldownState:
    """A series as stored: sends so far (0: none), the last one's time, the block's end."""

    count: int
    last_at: int
    blocked_until: int | None


@dataclass(frozen=True)
class CooldownRule:
    """One method's cooldown of one policy, for one send's number or user."""

    key: str
    policy_name: str
    method: str  # sms, voice: the field of cooldownConfiguration
    waits_ms: tuple[int, int, int]
    resend_limit: int
    target: str  # the field the refusal names: to, or user.id with groupBy USER_ID


@dataclass(frozen=True)
class CooldownOutcome:
    """The state to store, and the error when the send is refused (``rule`` names which rule)."""

    state: CooldownState
    error: RequestLimited | None = None
    rule: str | None = None
    reason: str = ""


def series_prefix(policy_id: str) -> str:
    """Where a policy's cooldown series start: ``cooldown:{policy}:{sms|voice}:`` and the subject."""
    return f"cooldown:{policy_id}:"


def cooldown_rule(
    policy_id: str, policy_name: str, rules: dict[str, Any], method: str, to: str, user_id: str | None
) -> CooldownRule | None:
    field = COOLDOWN_KEY[method]
    config = (rules.get("cooldownConfiguration") or {}).get(field) or {}
    if not config.get("enabled"):
        return None
    by_user = config.get("groupBy") == "USER_ID" and user_id is not None
    subject = f"user:{user_id}:{to}" if by_user else f"number:{to}"
    periods = config["periods"]
    waits = tuple(int(p["duration"]) * UNIT_MS[p["timeUnit"]] for p in periods[:3])
    return CooldownRule(
        key=f"{series_prefix(policy_id)}{field}:{subject}",
        policy_name=policy_name,
        method=field,
        waits_ms=(waits[0], waits[1], waits[2]),
        resend_limit=int(config["resendLimit"]),
        target="user.id" if by_user else "to",
    )


def _seconds(ms: int) -> int:
    return max(1, -(-ms // 1000))


def decide(rule: CooldownRule, state: CooldownState, now: int) -> CooldownOutcome:
    """What this send does to the series: accepted (the new state), or refused and why."""
    if state.blocked_until is not None and now < state.blocked_until:
        return _refused(rule, state, RESEND_LIMIT, state.blocked_until, now, blocked=True)
    fresh = state.count == 0 or (state.blocked_until is not None) or now - state.last_at >= SERIES_IDLE_MS
    if fresh:
        return CooldownOutcome(CooldownState(1, now, None))
    resends = state.count - 1
    if resends >= rule.resend_limit:
        blocked = CooldownState(state.count, state.last_at, now + BLOCK_MS)
        return _refused(rule, blocked, RESEND_LIMIT, now + BLOCK_MS, now, blocked=True)
    wait = rule.waits_ms[min(resends, 2)]
    if now < state.last_at + wait:
        return _refused(rule, state, COOLDOWN, state.last_at + wait, now, blocked=False, period=min(resends, 2))
    return CooldownOutcome(CooldownState(state.count + 1, now, None))


def _refused(
    rule: CooldownRule,
    state: CooldownState,
    kind: str,
    until: int,
    now: int,
    *,
    blocked: bool,
    period: int = 0,
) -> CooldownOutcome:
    retry_after = _seconds(until - now)
    whom = "this user at this number" if rule.target == "user.id" else "this number"
    if blocked:
        message = (
            f"The notification policy '{rule.policy_name}' allows {rule.resend_limit} resends to {whom} "
            f"(cooldownConfiguration.{rule.method}.resendLimit), then blocks for 30 minutes: "
            f"blocked until {iso_ms(until)}."
        )
    else:
        message = (
            f"The notification policy '{rule.policy_name}' asks to wait "
            f"{rule.waits_ms[period] // 1000} seconds before resend {state.count} to {whom} "
            f"(cooldownConfiguration.{rule.method}.periods[{period}]): try again at {iso_ms(until)}."
        )
    error = RequestLimited(
        "The request was rate limited: the notification policy's cooldown is not over.",
        [Detail("LIMIT_EXCEEDED", message, rule.target, {"retryAfter": retry_after})],
        retry_after=retry_after,
    )
    return CooldownOutcome(state, error, kind, message)
