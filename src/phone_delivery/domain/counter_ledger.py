"""The policy counters of one send, decided in memory: quota and hourly-cap units, the prefix
velocity's distinct numbers, the cooldown's series.

The caller locks and reads every counter row the sends of one transaction touch, applies the sends in
order with ``settle_send`` (each sees the rows as the ones before it left them) and writes back the
rows that changed. That is the same as taking the rows one send at a time, in far fewer statements.

A refused send gives back its quota and hourly units; what the velocity and cooldown rules wrote is
kept (a block, a number counted in its prefix: the attempt happened).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.cooldowns import CooldownRule, CooldownState, decide
from phone_delivery.domain.fraud_rules import VelocityRule
from phone_delivery.domain.policy_rules import CounterClaim, Refusal


@dataclass(frozen=True)
class CounterRow:
    """A counter as stored (``notification_counters``); a row that does not exist reads as ``EMPTY``."""

    window_start: int = 0
    count: int = 0
    last_at: int = 0
    blocked_until: int | None = None


EMPTY = CounterRow()


@dataclass(frozen=True)
class CountedRules:
    """The counted rules of one send (``PolicyGate.plan``)."""

    claims: tuple[CounterClaim, ...] = ()
    velocity: VelocityRule | None = None
    cooldown: CooldownRule | None = None

    def __bool__(self) -> bool:
        """Whether there is anything to count."""
        return bool(self.claims) or self.velocity is not None or self.cooldown is not None

    def keys(self, to: str) -> list[str]:
        """Every counter row the rules read or write."""
        keys = [claim.key for claim in self.claims]
        if self.velocity is not None:
            keys += [self.velocity.prefix_key, self.velocity.number_key(to)]
        if self.cooldown is not None:
            keys.append(self.cooldown.key)
        return keys


@dataclass
class Outcome:
    """The rows to write and, for a refused send, why."""

    changes: dict[str, CounterRow] = field(default_factory=dict)
    refusal: Refusal | None = None


def settle_send(rules: CountedRules, to: str, now: int, row: Callable[[str], CounterRow]) -> Outcome:
    """Apply one send's rules, in order (claims, velocity, cooldown), to the rows ``row`` reads."""
    staged: dict[str, CounterRow] = {}  # quota and hourly units: given back if the send is refused
    for claim in rules.claims:
        current = row(claim.key)
        if current.window_start != claim.window_start:
            staged[claim.key] = replace(current, window_start=claim.window_start, count=1, last_at=now)
        elif current.count < claim.limit:
            staged[claim.key] = replace(current, count=current.count + 1, last_at=now)
        else:
            return Outcome(refusal=claim.refusal())
    kept: dict[str, CounterRow] = {}
    if rules.velocity is not None:
        refusal = _velocity(rules.velocity, to, now, row, kept)
        if refusal is not None:
            return Outcome(kept, refusal)
    if rules.cooldown is not None:
        current = row(rules.cooldown.key)
        state = CooldownState(current.count, current.last_at, current.blocked_until)
        outcome = decide(rules.cooldown, state, now)
        if outcome.state != state:
            kept[rules.cooldown.key] = replace(
                current,
                count=outcome.state.count,
                last_at=outcome.state.last_at,
                blocked_until=outcome.state.blocked_until,
            )
        if outcome.error is not None and outcome.rule is not None:
            return Outcome(kept, Refusal(outcome.rule, outcome.error, outcome.reason))
    return Outcome({**staged, **kept})


def _velocity(
    rule: VelocityRule, to: str, now: int, row: Callable[[str], CounterRow], kept: dict[str, CounterRow]
) -> Refusal | None:
    """Count ``to`` among the different numbers of its prefix in the current window; more than
    ``distinct`` trips the rule and blocks the prefix for ``block_ms``."""
    prefix = row(rule.prefix_key)
    if prefix.blocked_until is not None and now < prefix.blocked_until:
        return rule.refusal(prefix.blocked_until, now, tripped=False)
    window = rule.window(now)
    count = prefix.count if prefix.window_start == window else 0
    number = row(rule.number_key(to))
    if number.window_start == window and number.count >= 1:
        return None  # this number was already counted in this window
    kept[rule.number_key(to)] = replace(number, window_start=window, count=1, last_at=now)
    if count + 1 > rule.distinct:
        until = now + rule.block_ms
        kept[rule.prefix_key] = CounterRow(window, count, now, until)
        refusal = rule.refusal(until, now, tripped=True)
        trip = (
            f"prefixVelocity tripped: more than {rule.distinct} different numbers starting with {rule.prefix} "
            f"within {rule.window_ms // 1000} seconds; sends to the prefix are refused until {iso_ms(until)}."
        )
        return Refusal(refusal.rule, refusal.error, refusal.reason, trip)
    kept[rule.prefix_key] = CounterRow(window, count + 1, now, None)
    return None
