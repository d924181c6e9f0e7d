"""DeliveryWorker: claims due notifications with a lease and sends each along its sender chain.

Per claimed notification: the claim transaction marks attempts a dead worker left IN_PROGRESS as
UNKNOWN, then records a new IN_PROGRESS attempt; only then is the provider called; one more
transaction records the outcome and the next step (sent, retry later, next sender, failed). While a
send is in flight the worker renews its lease every third of ``lease_seconds``, so only a worker that
died (or stalled longer than a lease) loses it. A worker killed at any point loses nothing: the
lease expires and another worker continues. A try whose outcome is unknown is recorded as UNKNOWN
and the message is sent again (at least once, never a silent duplicate).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from phone_delivery.delivery.senders import SenderResolver
from phone_delivery.delivery.service import apply_callback, notification_activity
from phone_delivery.domain.clock import now_ms
from phone_delivery.domain.errors import ProviderRejected, ProviderUnavailable, ServiceUnavailable
from phone_delivery.domain.ids import time_ordered_id
from phone_delivery.domain.models import Activity
from phone_delivery.domain.notifications import (
    FAILED,
    IN_PROGRESS,
    INTERNAL,
    PINGONE_TWILIO,
    QUEUED,
    RECIPIENT_FAILED,
    SENDER_FAILED,
    SENT,
    SUCCEEDED,
    TRANSIENT,
    RetryPolicy,
    after_try,
    reports_by_twilio_callback,
)
from phone_delivery.domain.ports import OutboundMessage
from phone_delivery.settings import Settings
from phone_delivery.store.activities_repo import ActivityRepository
from phone_delivery.store.batch_writer import BatchWriter, Deferred
from phone_delivery.store.counters_repo import CounterRepository
from phone_delivery.store.crypto import KeyringError, SecretCipher
from phone_delivery.store.database import Conn, Database
from phone_delivery.store.notifications_repo import NotificationRepository, unseal
from phone_delivery.store.tables import notifications

log = structlog.get_logger(logger_name="phone_delivery.worker")
# Policy counters: a row untouched for two days is in a window over for every rule (a day at most),
# its cooldown series idle and its block over; the worker deletes those about hourly.
COUNTERS_KEPT_MS = 2 * 86_400_000
COUNTERS_FORGET_EVERY_SECONDS = 3600
COUNTERS_FORGET_BATCH = 1000


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.notifications = Counter(
            "phone_delivery_notifications", "Notifications reaching a status", ["status"], registry=registry
        )
        self.attempts = Counter(
            "phone_delivery_attempts", "Provider attempts", ["provider", "outcome"], registry=registry
        )
        self.latency = Histogram(
            "phone_delivery_provider_latency_seconds",
            "Provider call latency",
            ["provider"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.internal_errors = Counter(
            "phone_delivery_internal_errors",
            "Sends that failed through phone-delivery's own fault (never counted against a sender)",
            ["stage"],
            registry=registry,
        )
        self.queue_depth = Gauge("phone_delivery_queue_depth", "Notifications waiting to be sent", registry=registry)
        self.queue_age = Gauge(
            "phone_delivery_queue_oldest_age_seconds", "Age of the oldest waiting notification", registry=registry
        )


@dataclass
class Claimed:
    row: dict[str, Any]
    attempt_id: str
    entry: str


class DeliveryWorker:
    def __init__(
        self,
        database: Database,
        cipher: SecretCipher,
        resolver: SenderResolver,
        settings: Settings,
        metrics: WorkerMetrics,
        callback_base: str | None,
        writer: BatchWriter,
    ) -> None:
        self._database = database
        self._writer = writer
        self._cipher = cipher
        self._resolver = resolver
        self._settings = settings
        self._metrics = metrics
        self._callback_base = callback_base
        self._policy = RetryPolicy(
            settings.retry_base_seconds,
            settings.retry_max_seconds,
            settings.tries_per_sender,
            settings.internal_error_give_up_seconds,
        )
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._stop_requested = asyncio.Event()
        self._stopped_at = 0.0
        self._in_flight: set[asyncio.Task[None]] = set()
        self._held: set[str] = set()  # notifications leased by this worker and not yet recorded
        self._min_claim = max(1, settings.worker_concurrency // 4)

    @property
    def metrics_registry(self) -> CollectorRegistry:
        """Where this worker's metrics are (a worker process answers them to serve's /metrics)."""
        return self._metrics.registry

    def wake(self) -> None:
        self._wake.set()

    def forget_sender(self, environment_id: str, sender_id: str) -> None:
        """The sender changed or is gone (through an API in another process): read it again."""
        self._resolver.forget(environment_id, sender_id)

    def stop(self) -> None:
        if not self._stopping:
            self._stopped_at = time.monotonic()
        self._stopping = True
        self._stop_requested.set()
        self._wake.set()

    async def run(self) -> None:
        loop = type(asyncio.get_running_loop())
        log.info("worker_started", worker=self.name, event_loop=f"{loop.__module__}.{loop.__qualname__}")
        renewer = asyncio.create_task(self._renew_leases())
        try:
            await self._claim_and_send()
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
        log.info("worker_stopped", worker=self.name)

    async def _claim_and_send(self) -> None:
        last_stats = 0.0
        # the first clean-up a minute after start (a worker restarted more often than hourly still cleans)
        last_forget = time.monotonic() - COUNTERS_FORGET_EVERY_SECONDS + 60
        while not self._stopping:
            free = self._settings.worker_concurrency - len(self._in_flight)
            if free <= 0 or (free < self._min_claim and self._in_flight):
                # Under load, claim in batches: a claim per freed slot would cost a transaction per send.
                # A stop ends the wait too: slots free up only as fast as the provider answers.
                stopping = asyncio.ensure_future(self._stop_requested.wait())
                await asyncio.wait({*self._in_flight, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                continue
            self._wake.clear()  # before claiming, so a wake during the claim is not lost
            claimed = await self._claim(free)
            for item in claimed:
                self._held.add(item.row["id"])
                task = asyncio.create_task(self._deliver(item))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
                # However the send ends (recorded, crashed, cancelled), its lease is renewed no more.
                task.add_done_callback(functools.partial(self._release, item.row["id"]))
            if time.monotonic() - last_stats > 5:
                await self._queue_stats()
                last_stats = time.monotonic()
            if time.monotonic() - last_forget > COUNTERS_FORGET_EVERY_SECONDS:
                last_forget = time.monotonic()
                await self.forget_old_counters()
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._settings.worker_poll_seconds)
        await self._finish_in_flight()

    async def _finish_in_flight(self) -> None:
        """Stopping: the sends in flight finish and are recorded, within ``shutdown_seconds``. A send
        still in flight after that is cancelled and keeps its lease, as after a crash: when the lease
        runs out another worker marks its attempt UNKNOWN and decides (docs/delivery.md, Shutdown)."""
        if not self._in_flight:
            return
        log.info("worker_finishing_sends", worker=self.name, in_flight=len(self._in_flight))
        left = max(0.0, self._settings.shutdown_seconds - (time.monotonic() - self._stopped_at))
        _, late = await asyncio.wait(self._in_flight, timeout=left)
        if late:
            log.warning(
                "shutdown_deadline_passed",
                worker=self.name,
                notification_ids=sorted(self._held),
                seconds=self._settings.shutdown_seconds,
            )
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def _release(self, notification_id: str, _: asyncio.Task[None]) -> None:
        self._held.discard(notification_id)

    async def _renew_leases(self) -> None:
        """Every third of a lease, extend the leases of the notifications still in flight."""
        lease_ms = int(self._settings.lease_seconds * 1000)
        while True:
            await asyncio.sleep(self._settings.lease_seconds / 3)
            held = list(self._held)
            if not held:
                continue

            async def renew(conn: Conn, ids: list[str] = held) -> int:
                return await NotificationRepository(conn).renew_leases(ids, self.name, now_ms() + lease_ms)

            try:
                await self._writer.run(renew)
            except Exception:  # the next round tries again; a lease outlasts two missed renewals
                log.exception("lease_renewal_failed", worker=self.name)

    async def _claim(self, batch: int) -> list[Claimed]:
        now = now_ms()
        out: list[Claimed] = []
        try:
            async with self._database.write() as conn:
                repo = NotificationRepository(conn)
                rows = await repo.claim(
                    self.name,
                    now,
                    int(self._settings.lease_seconds * 1000),
                    batch,
                    skip_locked=not self._database.sqlite,
                )
                if not rows:
                    return out
                lost = await repo.mark_lost_attempts([row["id"] for row in rows], now)
                if lost:
                    log.warning("attempt_outcome_unknown", notification_ids=lost)
                new_attempts = []
                for row in rows:
                    entry = list(row["chain"])[row["chain_position"]]
                    attempt_id = time_ordered_id(now)
                    new_attempts.append(
                        {
                            "id": attempt_id,
                            "notification_id": row["id"],
                            "sender_id": entry,
                            # Known once the sender is loaded; PINGONE_TWILIO is its own provider.
                            "provider": PINGONE_TWILIO if entry == PINGONE_TWILIO else None,
                            "outcome": IN_PROGRESS,
                            "provider_message_id": None,
                            "error_code": None,
                            "error_message": None,
                            "worker": self.name,
                            "started_at": now,
                            "finished_at": None,
                        }
                    )
                    out.append(Claimed(row, attempt_id, entry))
                await repo.insert_attempts(new_attempts)
        except ServiceUnavailable as exc:  # the database refuses writes: say why, once a poll, no traceback
            log.warning("claim_failed", worker=self.name, reason=exc.message)
            await asyncio.sleep(self._settings.worker_poll_seconds)
            return []
        except Exception:
            log.exception("claim_failed", worker=self.name)
            await asyncio.sleep(self._settings.worker_poll_seconds)
            return []
        return out

    async def _deliver(self, item: Claimed) -> None:
        row = item.row
        env = row["environment_id"]
        started = time.perf_counter()
        provider_name: str | None = PINGONE_TWILIO if item.entry == PINGONE_TWILIO else None  # until loaded
        retry_after: float | None = None
        result_id: str | None = None
        error_code: str | None = None
        error_message: str | None = None
        provider_called = False
        try:
            resolved = await self._resolver.resolve(env, item.entry)
            provider_name = resolved.provider_name
            content = unseal(self._cipher, row["content_ciphertext"])
            callback = (
                f"{self._callback_base}/callbacks/twilio/{env}/{row['id']}"
                if self._callback_base and reports_by_twilio_callback(provider_name)
                else None
            )
            message = OutboundMessage(
                notification_id=row["id"],
                delivery_method=row["delivery_method"],
                to=row["to_number"],
                country=row["country"],
                message=content.message,
                otp=content.otp,
                locale=row["locale"],
                status_callback=callback,
            )
            provider_called = True
            result = await resolved.provider.send(message)
            outcome, result_id = SUCCEEDED, provider_id(result.provider_message_id)
        except ProviderUnavailable as exc:
            outcome, error_code, error_message = TRANSIENT, _code(exc.provider_code, exc.status), exc.message
            retry_after = _seconds(exc.extra.get("retry_after"))
        except ProviderRejected as exc:
            kind = RECIPIENT_FAILED if exc.extra.get("kind") == "recipient" else SENDER_FAILED
            outcome, error_code, error_message = kind, _code(exc.provider_code, exc.status), exc.message
        except Exception as exc:  # ours, not the sender's: never the next sender (domain/notifications.after_try)
            log.exception(
                "send_internal_error",
                notification_id=row["id"],
                error=type(exc).__name__,
                provider_called=provider_called,
            )
            self._metrics.internal_errors.labels("send").inc()
            outcome, error_code, error_message = INTERNAL, "INTERNAL", internal_error_message(exc)
        elapsed = time.perf_counter() - started
        self._metrics.attempts.labels(provider_name or "unknown", outcome).inc()
        self._metrics.latency.labels(provider_name or "unknown").observe(elapsed)
        # a provider's answer is anyone's text: stored as its columns can hold it
        error_code, error_message = stored_text(error_code, ERROR_CODE_MAX), stored_text(error_message)
        await self._record(
            item, provider_name, outcome, result_id, error_code, error_message, retry_after, provider_called
        )

    async def _record(
        self,
        item: Claimed,
        provider_name: str | None,
        outcome: str,
        result_id: str | None,
        error_code: str | None,
        error_message: str | None,
        retry_after: float | None,
        provider_called: bool = False,
    ) -> None:
        row = item.row
        now = now_ms()
        tries = row["tries_at_position"] + 1
        position = row["chain_position"]
        step = after_try(
            outcome,
            tries,
            position,
            len(row["chain"]),
            self._policy,
            retry_after,
            provider_called=provider_called,
            age_seconds=(now - row["created_at"]) / 1000,
        )
        values: dict[str, Any] = {"updated_at": now, "lease_owner": None, "lease_expires_at": None}
        sender_id = None if item.entry == PINGONE_TWILIO else item.entry
        if step.kind == "DONE":
            values.update(  # status: SENT, unless a status callback was faster (mark_sent_owned_many)
                sender_id=sender_id,
                provider=provider_name,
                provider_message_id=result_id,
                next_attempt_at=None,
                tries_at_position=tries,
                error_code=None,
                error_message=None,
            )
        elif step.kind == "RETRY":
            values.update(
                status=QUEUED,
                tries_at_position=tries,
                next_attempt_at=now + int(step.delay * 1000),
                error_code=error_code,
                error_message=error_message,
            )
        elif step.kind == "WAIT":
            values.update(
                status=QUEUED,
                next_attempt_at=now + int(step.delay * 1000),
                error_code=error_code,
                error_message=f"{error_message} It will be tried again.",
            )
        elif step.kind == "NEXT":
            values.update(
                status=QUEUED,
                chain_position=position + 1,
                tries_at_position=0,
                next_attempt_at=now,
                error_code=error_code,
                error_message=error_message,
            )
        else:
            values.update(
                status=FAILED,
                next_attempt_at=None,
                tries_at_position=tries,
                provider=provider_name,
                sender_id=sender_id,
                error_code=error_code,
                # Our own error: what the decision says (the attempt keeps what went wrong).
                error_message=step.reason if outcome == INTERNAL else (error_message or step.reason),
            )
        final = SENT if step.kind == "DONE" else FAILED if step.kind == "FAIL" else None

        attempt = {
            "attempt_id": item.attempt_id,
            "outcome": outcome,
            "provider": provider_name,
            "provider_message_id": result_id,
            "error_code": error_code,
            "error_message": error_message,
            "finished_at": now,
        }

        def activity(decided: str) -> Activity:
            return notification_activity(
                row["environment_id"],
                row["id"],
                "UPDATED",
                f"Notification {decided.lower()} via {provider_name or item.entry}.",
                None,
                now,
            )

        async def write(conn: Conn) -> Any:
            # A send that went out (most of them): its notification is updated with the batch's others
            # (_finish_records); status SENT unless a status callback was faster (mark_sent_owned_many).
            if step.kind == "DONE":
                record = _Record(
                    row["environment_id"],
                    row["id"],
                    attempt,
                    activity(SENT),
                    SENT,
                    SENT,
                    result_id,
                    now,
                    values,
                    self.name,
                )
                return Deferred(record, _finish_records)
            repo = NotificationRepository(conn)
            decided = final
            # never over a status a callback made final meanwhile (it was SENDING when we claimed it)
            updated = await repo.update_owned_while_sending(row["id"], self.name, values)
            if not updated and await repo.release_owned_final(row["id"], self.name, now):
                updated, decided = True, None  # the callback's status stands; record the attempt only
            if not updated:
                # Another worker took the notification over (this one stalled past its lease) and
                # marked this attempt UNKNOWN before deciding what to do: leave that record as it is.
                return "lost"
            done = activity(decided) if decided is not None else None
            return Deferred(
                _Record(row["environment_id"], row["id"], attempt, done, final, decided, None, now), _finish_records
            )

        written = await self._writer.run(write)
        if written == "lost":
            log.warning("lease_lost", notification_id=row["id"], worker=self.name, outcome=outcome)
            return
        if written == "decided" and final is not None:
            self._metrics.notifications.labels(final).inc()
        log.info(
            "attempt_recorded",
            notification_id=row["id"],
            provider=provider_name,
            outcome=outcome,
            next=step.kind,
            error_code=error_code,
        )
        if step.kind == "NEXT":
            self.wake()

    async def forget_old_counters(self) -> int:
        """Delete the policy counters no rule reads any more (last touched over ``COUNTERS_KEPT_MS``
        ago), a bounded number per transaction so that sends never wait long behind it."""
        cutoff, forgotten = now_ms() - COUNTERS_KEPT_MS, 0
        dialect = "sqlite" if self._database.sqlite else "postgresql"
        try:
            while True:
                # A transaction of its own, not a group commit's: sends settle their counters under
                # advisory locks this delete does not take, so sharing their transaction could make
                # a cycle with another batch's.
                async with self._database.write() as conn:
                    deleted = await CounterRepository(conn, dialect).delete_older_than(cutoff, COUNTERS_FORGET_BATCH)
                forgotten += deleted
                if deleted < COUNTERS_FORGET_BATCH:
                    break
        except Exception as exc:  # noqa: BLE001 - housekeeping: the next round tries again
            log.warning("counters_forget_failed", error=type(exc).__name__)
        if forgotten:
            log.info("counters_forgotten", rows=forgotten)
        return forgotten

    async def _queue_stats(self) -> None:
        try:
            async with self._database.read() as conn:
                depth, age_ms = await NotificationRepository(conn).queue_stats(now_ms())
        except Exception:  # noqa: BLE001 - metrics are best effort
            return
        self._metrics.queue_depth.set(depth)
        self._metrics.queue_age.set(age_ms / 1000)


@dataclass(frozen=True)
class _Record:
    """What a batch's settle writes for one try (``_finish_records``): for a sent try (``sent``) its
    notification too; for any other the notification was updated by the try's own job."""

    environment_id: str
    notification_id: str
    attempt: dict[str, Any]  # finish_attempts' row
    activity: Activity | None
    final: str | None  # the try's decision: SENT or FAILED, or None to go on
    decided: str | None  # final, unless a callback's final status stood
    sid: str | None  # the provider's id for this try, when it was sent
    now: int
    sent: dict[str, Any] | None = None  # a sent try's notification values, not written yet
    worker: str = ""  # whose lease the sent try's notification must still be under


async def _finish_records(conn: Conn, records: list[_Record]) -> list[str]:
    """A batch's records, in a few statements whatever their number (``BatchWriter``'s settle): the
    notifications of the sent tries (those whose lease is still held; the others are "lost"), the
    attempts' outcomes, the activities and the kept callbacks. A callback kept while a try was in
    flight, because it might have been an earlier try's, counts now if it names this try's sid;
    every kept callback of a notification whose try was final goes."""
    repo = NotificationRepository(conn)
    updated: set[str] = set()
    for worker in sorted({record.worker for record in records if record.sent is not None}):
        sends = {r.notification_id: r.sent for r in records if r.sent is not None and r.worker == worker}
        updated |= await repo.mark_sent_owned_many(worker, sends)
    kept = [record for record in records if record.sent is None or record.notification_id in updated]
    await repo.finish_attempts([record.attempt for record in kept])
    await ActivityRepository(conn).insert_many([record.activity for record in kept if record.activity])
    early = await repo.take_early_callbacks([record.notification_id for record in kept if record.final])
    for record in kept:
        callbacks = early.get(record.notification_id, [])
        match = next((callback for callback in callbacks if callback["provider_message_id"] == record.sid), None)
        if match is not None and record.decided is not None:
            await apply_callback(conn, record.environment_id, record.notification_id, match, record.now)
    return [
        "lost"
        if record.sent is not None and record.notification_id not in updated
        else "recorded"
        if record.decided is None
        else "decided"
        for record in records
    ]


def _column_length(column: Any) -> int:
    length = getattr(column.type, "length", None)
    assert isinstance(length, int), f"{column} has no length"
    return length


# the columns' lengths (the notification's; the attempt's are the same)
PROVIDER_ID_MAX = _column_length(notifications.c.provider_message_id)
ERROR_CODE_MAX = _column_length(notifications.c.error_code)


def stored_text(value: str | None, length: int | None = None) -> str | None:
    """A provider's text (a custom gateway's answer is anyone's), as it is stored: without NUL
    (PostgreSQL refuses it in text) and cut to its column's ``length`` (PostgreSQL refuses longer).
    Either would fail the record of the try: the notification stayed SENDING until its lease ran
    out, and was sent again. CR/LF and non-ASCII are kept as they are (bound parameters, never
    logged raw)."""
    if value is None:
        return None
    return value.replace("\x00", "")[:length] or None


def provider_id(value: str | None) -> str | None:
    """A provider's id for a message, as it is stored (``stored_text``)."""
    return stored_text(value, PROVIDER_ID_MAX)


def internal_error_message(exc: Exception) -> str:
    """What the attempt record says of our own error: our key errors name the key id; anything else
    only its type (an exception's text could hold what we were sending)."""
    if isinstance(exc, KeyringError):
        return f"phone-delivery could not decrypt what it needs to send: {exc}."
    return f"phone-delivery failed ({type(exc).__name__}); the error is in the log."


def _code(provider_code: Any, status: int | None) -> str | None:
    if provider_code not in (None, ""):
        return str(provider_code)
    return str(status) if status else None


def _seconds(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
