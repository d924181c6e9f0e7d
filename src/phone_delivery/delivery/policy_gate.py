"""The notification policy on the send path: what it refuses before anything is queued, the chain it
routes a send to, and the counters it takes in the outbox transaction (``NotificationService.accept``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter

from phone_delivery.domain.activities import new_activity
from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.cooldowns import CooldownRule, cooldown_rule, decide
from phone_delivery.domain.fraud_rules import VelocityRule, hourly_claim, number_type_refusal, velocity_rule
from phone_delivery.domain.models import Activity, Principal
from phone_delivery.domain.policy_rules import (
    CounterClaim,
    Refusal,
    SendFacts,
    country_refusal,
    delivery_mode_refusal,
    quota_claim,
    routed_chain,
)
from phone_delivery.store.counters_repo import CounterRepository
from phone_delivery.store.database import Conn
from phone_delivery.store.policies_repo import SendContext


class RefusalMetrics:
    """``phone_delivery_notifications_refused_total{rule}``: sends a policy refused, by the rule."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.refused = Counter(
            "phone_delivery_notifications_refused_total",
            "Sends refused by a notification policy or the delivery mode, by rule",
            ["rule"],
            registry=registry,
        )

    def count(self, rule: str) -> None:
        self.refused.labels(rule=rule).inc()


@dataclass
class Plan:
    """What the policy decided before the outbox transaction."""

    refusal: Refusal | None = None
    chain: list[str] | None = None  # a routing condition's chain; None: the environment's
    claims: list[CounterClaim] = field(default_factory=list)
    cooldown: CooldownRule | None = None
    velocity: VelocityRule | None = None

    @property
    def counts(self) -> bool:
        """Whether the outbox transaction has counters to take."""
        return bool(self.claims) or self.cooldown is not None or self.velocity is not None

    def counter_keys(self, env: str, to: str) -> list[str]:
        """Every counter row the outbox transaction may lock (for ``BatchWriter``'s ordered locks)."""
        keys = [claim.key for claim in self.claims]
        if self.velocity is not None:
            keys += [self.velocity.prefix_key, self.velocity.number_key(to)]
        if self.cooldown is not None:
            keys.append(self.cooldown.key)
        return [f"{env}:{key}" for key in keys]


def rejected_activity(
    env: str, actor: Principal, send: SendFacts, refusal: Refusal, policy_name: str | None, at: int
) -> Activity:
    """``NOTIFICATION.REJECTED``: the refused send never becomes a notification, so the activity's
    resource id is one of its own."""
    description = f"{send.delivery_method} notification refused ({refusal.rule}): {refusal.reason}"
    return new_activity(env, "NOTIFICATION", "REJECTED", str(uuid.uuid4()), description, actor, at, policy_name)


class PolicyGate:
    def __init__(self, dialect: str, metrics: RefusalMetrics | None = None) -> None:
        self._dialect = dialect
        self._metrics = metrics

    def plan(self, context: SendContext, send: SendFacts, now: int) -> Plan:
        refusal = delivery_mode_refusal(context.delivery_mode, context.whitelist, send)
        if refusal is not None:
            return Plan(refusal=refusal)
        rules, policy_id, name = context.rules, context.policy_id, context.policy_name
        if rules is None or policy_id is None or name is None:
            return Plan()
        refusal = country_refusal(name, rules, send) or number_type_refusal(name, rules, send)
        if refusal is not None:
            return Plan(refusal=refusal)
        # Users on the whitelist are exempt from quotas and cooldowns, as in PingOne.
        whitelisted = send.user_id is not None and send.user_id in context.whitelist
        quota = quota_claim(policy_id, name, rules, send, whitelisted, now)
        cooldown = (
            None if whitelisted else cooldown_rule(policy_id, name, rules, send.delivery_method, send.to, send.user_id)
        )
        claims = [claim for claim in (quota, hourly_claim(policy_id, name, rules, send, now)) if claim is not None]
        return Plan(
            chain=routed_chain(rules, send),
            claims=claims,
            cooldown=cooldown,
            velocity=velocity_rule(policy_id, name, rules, send),
        )

    async def take(self, conn: Conn, env: str, plan: Plan, to: str, now: int) -> Refusal | None:
        """Take every claim's unit and the cooldown's turn, or none of them: the refusal of the first
        rule that says no. A cooldown's block is kept even though the send is refused."""
        repo = CounterRepository(conn, self._dialect)
        taken: list[CounterClaim] = []
        refusal: Refusal | None = None
        for claim in plan.claims:
            if not await repo.take(env, claim.key, claim.window_start, claim.limit, now):
                refusal = claim.refusal
                break
            taken.append(claim)
        if refusal is None and plan.velocity is not None:
            refusal = await _velocity(repo, env, plan.velocity, to, now)
        if refusal is None and plan.cooldown is not None:
            state = await repo.lock_state(env, plan.cooldown.key)
            outcome = decide(plan.cooldown, state, now)
            if outcome.state != state:
                await repo.set_state(env, plan.cooldown.key, outcome.state)
            if outcome.error is not None and outcome.rule is not None:
                refusal = Refusal(outcome.rule, outcome.error, outcome.reason)
        if refusal is not None:
            for done in taken:
                await repo.give_back(env, done.key, done.window_start)
        return refusal

    def refused(self, refusal: Refusal) -> None:
        if self._metrics is not None:
            self._metrics.count(refusal.rule)


async def _velocity(repo: CounterRepository, env: str, rule: VelocityRule, to: str, now: int) -> Refusal | None:
    """Count ``to`` among the different numbers of its prefix in the current window (the prefix's row
    locked); more than ``distinct`` trips the rule and blocks the prefix."""
    window_start, count, blocked_until = await repo.lock_row(env, rule.prefix_key)
    if blocked_until is not None and now < blocked_until:
        return rule.refusal(blocked_until, now, tripped=False)
    current = rule.window(now)
    if window_start != current:
        count = 0
    if not await repo.take(env, rule.number_key(to), current, 1, now):
        return None  # this number was already counted in this window
    if count + 1 > rule.distinct:
        until = now + rule.block_ms
        await repo.set_row(env, rule.prefix_key, current, count, now, until)
        refusal = rule.refusal(until, now, tripped=True)
        trip = (
            f"prefixVelocity tripped: more than {rule.distinct} different numbers starting with {rule.prefix} "
            f"within {rule.window_ms // 1000} seconds; sends to the prefix are refused until {iso_ms(until)}."
        )
        return Refusal(refusal.rule, refusal.error, refusal.reason, trip)
    await repo.set_row(env, rule.prefix_key, current, count + 1, now, None)
    return None
