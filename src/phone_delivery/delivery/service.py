"""Use cases of notifications: accept into the outbox, read, test-send, and Twilio status callbacks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from phone_delivery.delivery.policy_gate import CountedSend, PolicyGate, RefusalMetrics, rejected_activity
from phone_delivery.delivery.senders import SenderResolver
from phone_delivery.delivery.signatures import signature_matches
from phone_delivery.domain.activities import new_activity
from phone_delivery.domain.clock import now_ms
from phone_delivery.domain.errors import InvalidData, NotFound, ProviderRejected, ProviderUnavailable
from phone_delivery.domain.ids import time_ordered_id
from phone_delivery.domain.models import Activity, Principal
from phone_delivery.domain.notifications import (
    DELIVERED,
    PINGONE_TWILIO,
    QUEUED,
    SENDING,
    SENT,
    UNDELIVERED,
    AcceptedRequest,
    accept,
    reports_by_twilio_callback,
)
from phone_delivery.domain.policies import RESOURCE_TYPE
from phone_delivery.domain.policy_rules import Refusal, SendFacts
from phone_delivery.domain.ports import OutboundMessage
from phone_delivery.store.activities_repo import ActivityRepository
from phone_delivery.store.batch_writer import BatchWriter, Deferred
from phone_delivery.store.crypto import SecretCipher
from phone_delivery.store.database import Conn, Database
from phone_delivery.store.notifications_repo import NotificationRepository, seal
from phone_delivery.store.policies_repo import read_send_context

IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000
DELIVERED_STATES = {"delivered": DELIVERED, "read": DELIVERED, "completed": DELIVERED}
UNDELIVERED_STATES = {"undelivered", "failed", "busy", "no-answer", "canceled"}


def notification_activity(
    env: str, notification_id: str, verb: str, description: str, actor: Principal | None, at: int
) -> Activity:
    return new_activity(env, "NOTIFICATION", verb, notification_id, description, actor, at)


@dataclass(frozen=True)
class _Rejection:
    """Who asked for a send and under which policy: what its ``NOTIFICATION.REJECTED`` records."""

    actor: Principal
    send: SendFacts
    policy_id: str | None
    policy_name: str | None

    async def record(self, conn: Conn, env: str, refusal: Refusal, now: int) -> None:
        activities = ActivityRepository(conn)
        await activities.insert(rejected_activity(env, self.actor, self.send, refusal, self.policy_name, now))
        if refusal.trip is not None and self.policy_id is not None:
            trip = new_activity(
                env, RESOURCE_TYPE, "RULE_TRIPPED", self.policy_id, refusal.trip, None, now, self.policy_name
            )
            await activities.insert(trip)


@dataclass(frozen=True)
class _CountedWrite:
    """A counted send waiting for its counters to be settled: without an Idempotency-Key its
    notification is already written (taken out again if refused), with one it is written once
    accepted."""

    counted: CountedSend
    values: dict[str, Any]
    activity: Activity
    rejection: _Rejection
    key: str | None


class NotificationService:
    def __init__(
        self,
        database: Database,
        cipher: SecretCipher,
        resolver: SenderResolver,
        wake: Callable[[], None],
        writer: BatchWriter,
        refusals: RefusalMetrics | None = None,
    ) -> None:
        self._gate = PolicyGate("sqlite" if database.sqlite else "postgresql", refusals)
        self._database = database
        self._writer = writer
        self._cipher = cipher
        self._resolver = resolver
        self._wake = wake

    async def accept(
        self, actor: Principal, env: str, body: dict[str, Any], key: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Validate, apply the notification policy and write to the outbox (one group-committed
        transaction, which also takes the policy's quota units). With an Idempotency-Key seen in the
        last 24 hours the original notification is returned (False: nothing new)."""
        request = accept(body)
        context = await read_send_context(self._database, env, request.policy_id)
        if context is None:
            raise NotFound("The environment was not found.")
        if request.policy_id is not None and context.policy_id is None:
            raise InvalidData.single("INVALID_VALUE", "policy.id", "Not a notification policy of this environment.")
        now = now_ms()
        send = SendFacts(request.delivery_method, request.to, request.country, request.user_id)
        plan = self._gate.plan(context, send, now)
        if plan.refusal is not None:
            return await self._refuse(actor, env, request, key, send, plan.refusal, context.policy_name, now)
        chain = plan.chain or list(context.fallback_chain) or [PINGONE_TWILIO]
        try:
            await self._check_chain_delivers(env, chain, request.delivery_method)
        except InvalidData:
            # A replay of a request accepted before the chain changed still gets its notification.
            replayed = await self._replay(env, key, request.fingerprint, now) if key is not None else None
            if replayed is None:
                raise
            return replayed, False
        notification_id = time_ordered_id(now)
        values = {
            "id": notification_id,
            "environment_id": env,
            "delivery_method": request.delivery_method,
            "to_number": request.to,
            "country": request.country,
            "locale": request.locale,
            "user_id": request.user_id,
            "content_ciphertext": seal(self._cipher, request.message, request.otp),
            "status": QUEUED,
            "chain": chain,
            "chain_position": 0,
            "tries_at_position": 0,
            "idempotency_key": key,
            "request_hash": request.fingerprint,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
            "sender_id": None,
            "provider": None,
            "provider_message_id": None,
            "error_code": None,
            "error_message": None,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        activity = notification_activity(
            env, notification_id, "CREATED", f"{request.delivery_method} notification queued.", actor, now
        )

        rejection = _Rejection(actor, send, context.policy_id, context.policy_name)
        counted = CountedSend(env, plan.counted, request.to, now)

        async def write(conn: Conn) -> Any:
            repo = NotificationRepository(conn)
            if key is not None:
                existing = await repo.by_idempotency_key(env, key)
                replayed = _replay_of(existing, request.fingerprint, now)
                if replayed is not None:
                    return replayed, False, None
                if existing is not None:
                    await repo.forget_idempotency_key(env, key)
            if plan.counts:
                # The counters are settled at the end of the transaction with the other sends' (their
                # rows stay locked for the commit only). Without a key the notification is written
                # now and taken out again if refused; with one, only once accepted: another request
                # with the key in this transaction must not find a notification the policy then
                # refuses (two that both get written fail the batch on the key's unique index, and
                # it is rerun send by send).
                if key is None:
                    await _insert(conn, values, activity)
                return Deferred(_CountedWrite(counted, values, activity, rejection, key), self._settle)
            if key is None:  # nothing else in the transaction looks for it: written with the batch's others
                return Deferred((values, activity), _insert_all)
            await _insert(conn, values, activity)
            return values, True, None

        try:
            row, created, refusal = await self._writer.run(write)
        except IntegrityError:
            # The environment was deleted meanwhile, or a concurrent request took the same key.
            async with self._database.read() as conn:
                winner = await NotificationRepository(conn).by_idempotency_key(env, key) if key else None
            if winner is None:
                raise NotFound("The environment was not found.") from None
            return winner, False
        if refusal is not None or row is None:
            assert refusal is not None
            self._gate.refused(refusal)
            raise refusal.error
        if created:
            self._wake()
        return row, created

    async def _settle(
        self, conn: Conn, writes: list[_CountedWrite]
    ) -> list[tuple[dict[str, Any] | None, bool, Refusal | None]]:
        """The counters of a transaction's counted sends (``BatchWriter``'s settle), decided in order
        once their rows are locked. A keyed send whose key has a notification by then (committed by
        another transaction while this one waited for the locks, or accepted earlier in this one) is
        its replay, as if it had been found at once. Otherwise an accepted send's notification is
        written if it is not yet, and a refused one's taken out again and its rejection recorded."""
        counters = await self._gate.lock(conn, [write.counted for write in writes])
        notifications = NotificationRepository(conn)
        results: list[tuple[dict[str, Any] | None, bool, Refusal | None]] = []
        for write in writes:
            env, now = write.counted.env, write.counted.now
            if write.key is not None:
                # a copy accepted earlier in this transaction was written, so it is found here too
                existing = await notifications.by_idempotency_key(env, write.key)
                replayed = _replay_of(existing, write.values["request_hash"], now)
                if replayed is not None:
                    results.append((replayed, False, None))
                    continue
            refusal = counters.decide(write.counted)
            if refusal is None:
                if write.key is not None:
                    await _insert(conn, write.values, write.activity)
                results.append((write.values, True, None))
                continue
            if write.key is None:
                await notifications.delete(env, write.values["id"])
                await ActivityRepository(conn).delete(write.activity.id)
            await write.rejection.record(conn, env, refusal, now)
            results.append((None, False, refusal))
        await counters.store()
        return results

    async def _refuse(
        self,
        actor: Principal,
        env: str,
        request: AcceptedRequest,
        key: str | None,
        send: SendFacts,
        refusal: Refusal,
        policy_name: str | None,
        now: int,
    ) -> tuple[dict[str, Any], bool]:
        """A send the policy refuses before anything is queued: its activity, then its error (a replay
        of a request accepted before the policy changed still gets its notification)."""
        replayed = await self._replay(env, key, request.fingerprint, now) if key is not None else None
        if replayed is not None:
            return replayed, False
        activity = rejected_activity(env, actor, send, refusal, policy_name, now)

        async def record(conn: Conn) -> None:
            await ActivityRepository(conn).insert(activity)

        try:
            await self._writer.run(record)
        except IntegrityError:
            raise NotFound("The environment was not found.") from None
        self._gate.refused(refusal)
        raise refusal.error

    async def _replay(self, env: str, key: str, fingerprint: str, now: int) -> dict[str, Any] | None:
        async with self._database.read() as conn:
            existing = await NotificationRepository(conn).by_idempotency_key(env, key)
        return _replay_of(existing, fingerprint, now)  # the key's own error comes first, as on the write path

    async def _check_chain_delivers(self, env: str, chain: list[str], method: str) -> None:
        """Refuse now what no sender of the chain could ever deliver (VOICE through SMS-only senders)."""
        reasons = []
        for entry in chain:
            methods, what = await self._resolver.delivery_methods(env, entry)
            if method in methods:
                return
            reasons.append(f"{entry} ({what})")
        raise InvalidData.single(
            "INVALID_VALUE",
            "deliveryMethod",
            f"No sender in the fallback chain can deliver {method}: {'; '.join(reasons)}.",
        )

    async def get(self, env: str, notification_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with self._database.read() as conn:
            repo = NotificationRepository(conn)
            row = await repo.get(env, notification_id)
            if row is None:
                raise NotFound("The notification was not found.")
            attempts = await repo.attempts(notification_id)
            names = await repo.sender_names(env, {a["sender_id"] for a in attempts if a["sender_id"]})
            return row, [{**a, "sender_name": names.get(a["sender_id"])} for a in attempts]

    async def test_send(self, env: str, sender_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send through one sender now, bypassing chain and outbox; answer with the provider's result."""
        request = accept(body)
        resolved = await self._resolver.resolve(env, sender_id, fresh=True)
        message = OutboundMessage(
            notification_id=str(uuid.uuid4()),
            delivery_method=request.delivery_method,
            to=request.to,
            country=request.country,
            message=request.message,
            otp=request.otp,
            locale=request.locale,
        )
        try:
            result = await resolved.provider.send(message)
        except (ProviderRejected, ProviderUnavailable) as exc:
            return {
                "status": "FAILED",
                "provider": resolved.provider_name,
                "error": {"code": str(exc.provider_code or exc.status or ""), "message": exc.message},
            }
        return {
            "status": "SENT",
            "provider": resolved.provider_name,
            "providerMessageId": result.provider_message_id,
            "providerResponse": result.detail,
        }

    async def twilio_callback(
        self, env: str, notification_id: str, url: str, params: list[tuple[str, str]], signature: str
    ) -> bool:
        """Apply a signed Twilio status callback; False when the signature does not match.

        A final status (DELIVERED, UNDELIVERED, FAILED) is final: a later callback, a replayed one or
        one for an earlier try changes nothing and records nothing."""
        async with self._database.read() as conn:
            row = await NotificationRepository(conn).get(env, notification_id)
        if row is None:
            return False
        entry = _reporting_entry(row)
        if entry is None:
            return False
        try:
            resolved = await self._resolver.resolve(env, entry)
        except ProviderRejected:
            return False
        if not resolved.twilio_auth_token or not signature_matches(resolved.twilio_auth_token, url, params, signature):
            return False
        values = dict(params)
        state = (values.get("MessageStatus") or values.get("CallStatus") or "").lower()
        sid = values.get("MessageSid") or values.get("CallSid") or values.get("SmsSid")
        if callback_status(state) is None:
            return True  # queued, ringing, in-progress...: nothing to record
        async with self._database.write() as conn:
            repo = NotificationRepository(conn)
            row = await repo.get(env, notification_id, lock=True)  # the worker's record waits, or went first
            if row is None or row["status"] not in CALLBACK_MAY_CHANGE:
                return True  # final is final
            known = row["provider_message_id"]
            if sid and known and sid != known:
                return True  # a callback for an earlier try: nothing to change
            report = twilio_report(sid or "", state, values, now_ms())
            if known is None and await repo.attempt_count(notification_id) > 1:
                # Racing the worker's record, with earlier tries behind it: the callback may be an
                # earlier try's (one whose answer never reached us). Keep it until the worker knows
                # the sid of the try in flight; it counts then if the sids match.
                if sid:
                    await repo.keep_early_callback(notification_id, report)
                return True
            await apply_callback(conn, env, notification_id, report, report["received_at"])
        return True


def callback_status(state: str) -> str | None:
    """The notification status a Twilio message or call status leads to; None for one on the way."""
    return DELIVERED_STATES.get(state) or (UNDELIVERED if state in UNDELIVERED_STATES else None)


async def apply_callback(conn: Conn, env: str, notification_id: str, report: dict[str, Any], now: int) -> bool:
    """Move the notification to what Twilio reported (a ``twilio_report``), if it may still change;
    True when it moved."""
    state = report["provider_state"]
    new = callback_status(state)
    if new is None:
        return False
    changes: dict[str, Any] = {"status": new, "updated_at": now}
    if new == UNDELIVERED:
        changes["error_code"] = report["error_code"]
        changes["error_message"] = report["error_message"] or f"Twilio reported {state}."
    # Conditional, so that of two callbacks racing only the first one changes anything.
    if not await NotificationRepository(conn).update_status_if(env, notification_id, CALLBACK_MAY_CHANGE, changes):
        return False
    await ActivityRepository(conn).insert(
        notification_activity(env, notification_id, "UPDATED", f"Provider reported {state}.", None, now)
    )
    return True


def twilio_report(sid: str, state: str, values: dict[str, str], now: int) -> dict[str, Any]:
    """What a status callback reported, shaped as an ``early_callbacks`` row."""
    return {
        "provider_message_id": sid[:128],
        "provider_state": state[:32],
        "error_code": (values.get("ErrorCode") or "")[:64] or None,
        "error_message": values.get("ErrorMessage") or None,
        "received_at": now,
    }


# A callback may move a notification that is out with Twilio (SENT), or still SENDING when the
# callback overtakes the worker recording the provider's answer. Nothing else: final is final.
CALLBACK_MAY_CHANGE = (SENDING, SENT)


def _reporting_entry(row: dict[str, Any]) -> str | None:
    """The chain entry whose Twilio account signs this notification's callbacks: the sender that sent
    it, or, while the worker has not recorded the answer yet, the sender it is being sent through."""
    if row["provider"] is not None:
        return str(row["sender_id"] or PINGONE_TWILIO) if reports_by_twilio_callback(row["provider"]) else None
    if row["status"] == SENDING:
        return str(list(row["chain"])[row["chain_position"]])
    return None


async def _insert(conn: Conn, values: dict[str, Any], activity: Activity) -> None:
    """A notification into the outbox, with its CREATED activity."""
    await NotificationRepository(conn).insert(values)
    await ActivityRepository(conn).insert(activity)


async def _insert_all(
    conn: Conn, items: list[tuple[dict[str, Any], Activity]]
) -> list[tuple[dict[str, Any], bool, None]]:
    """A batch's uncounted sends without a key (``BatchWriter``'s settle): their notifications and
    CREATED activities in two statements, however many there are."""
    await NotificationRepository(conn).insert([values for values, _ in items])
    await ActivityRepository(conn).insert_many([activity for _, activity in items])
    return [(values, True, None) for values, _ in items]


def _replay_of(existing: dict[str, Any] | None, fingerprint: str, now: int) -> dict[str, Any] | None:
    """The notification a request with its Idempotency-Key replays: the key's notification of the
    last 24 hours (None if there is none), if it was made by the same request (else the key's 400)."""
    if existing is None or existing["created_at"] <= now - IDEMPOTENCY_WINDOW_MS:
        return None
    if existing["request_hash"] != fingerprint:
        raise _key_reused()
    return existing


def _key_reused() -> InvalidData:
    return InvalidData.single(
        "INVALID_VALUE",
        "Idempotency-Key",
        "This Idempotency-Key was used with a different request in the last 24 hours.",
    )
