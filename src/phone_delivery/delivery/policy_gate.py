"""The notification policy on the send path: what it refuses before anything is queued, the chain it
routes a send to, and the counters it settles at the end of the outbox transaction
(``NotificationService.accept``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from phone_delivery.domain.activities import new_activity
from phone_delivery.domain.cooldowns import cooldown_rule
from phone_delivery.domain.counter_ledger import EMPTY, CountedRules, CounterRow, settle_send
from phone_delivery.domain.fraud_rules import hourly_claim, number_type_refusal, velocity_rule
from phone_delivery.domain.models import Activity, Principal
from phone_delivery.domain.policy_rules import (
    Refusal,
    SendFacts,
    country_refusal,
    delivery_mode_refusal,
    quota_claim,
    routed_chain,
)
from phone_delivery.store.counters_repo import CounterRepository, Key
from phone_delivery.store.database import Conn
from phone_delivery.store.kept_values import KeptValues
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


class SendContextMetrics(Collector):
    """``phone_delivery_send_contexts_total{source}``: accepts whose send context was kept by this
    process (``kept``) or read from the database (``database``)."""

    def __init__(self, cache: KeptValues[Any, Any]) -> None:
        self._cache = cache

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "phone_delivery_send_contexts", "Send contexts kept by this process or read", labels=["source"]
        )
        family.add_metric(["kept"], self._cache.hits)
        family.add_metric(["database"], self._cache.misses)
        yield family


@dataclass
class Plan:
    """What the policy decided before the outbox transaction."""

    refusal: Refusal | None = None
    chain: list[str] | None = None  # a routing condition's chain; None: the environment's
    counted: CountedRules = field(default_factory=CountedRules)

    @property
    def counts(self) -> bool:
        """Whether the outbox transaction has counters to take."""
        return bool(self.counted)


@dataclass(frozen=True)
class CountedSend:
    """A send whose counters the outbox transaction settles (``PolicyGate.lock``)."""

    env: str
    rules: CountedRules
    to: str
    now: int


class LockedCounters:
    """The counter rows of one transaction's sends (``PolicyGate.lock``): decide sends in order, each
    seeing the rows as the ones before it left them, then ``store`` what changed."""

    def __init__(self, repo: CounterRepository, rows: dict[Key, CounterRow]) -> None:
        self._repo = repo
        self._rows = rows
        self._changed: dict[Key, CounterRow] = {}

    def decide(self, send: CountedSend) -> Refusal | None:
        outcome = settle_send(send.rules, send.to, send.now, partial(_row, self._rows, send.env))
        for key, row in outcome.changes.items():
            self._rows[(send.env, key)] = self._changed[(send.env, key)] = row
        return outcome.refusal

    async def store(self) -> None:
        await self._repo.store(self._changed)


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
        claims = tuple(claim for claim in (quota, hourly_claim(policy_id, name, rules, send, now)) if claim is not None)
        return Plan(
            chain=routed_chain(rules, send),
            counted=CountedRules(claims, velocity_rule(policy_id, name, rules, send), cooldown),
        )

    async def lock(self, conn: Conn, sends: list[CountedSend]) -> LockedCounters:
        """Every counter row these sends touch, locked and read at once, held until the transaction
        ends."""
        repo = CounterRepository(conn, self._dialect)
        rows = await repo.lock((send.env, key) for send in sends for key in send.rules.keys(send.to))
        return LockedCounters(repo, rows)

    def refused(self, refusal: Refusal) -> None:
        if self._metrics is not None:
            self._metrics.count(refusal.rule)


def _row(rows: dict[Key, CounterRow], env: str, key: str) -> CounterRow:
    return rows.get((env, key), EMPTY)
