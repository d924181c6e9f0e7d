"""Notifications (our extension): what a send request is, its statuses, and how a try's outcome
moves it along the sender chain."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, StringConstraints

from phone_delivery.domain.errors import InvalidData
from phone_delivery.domain.validation import parse

QUEUED, SENDING, SENT, DELIVERED, UNDELIVERED, FAILED = (
    "QUEUED",
    "SENDING",
    "SENT",
    "DELIVERED",
    "UNDELIVERED",
    "FAILED",
)
STATUSES = (QUEUED, SENDING, SENT, DELIVERED, UNDELIVERED, FAILED)
OPEN_STATUSES = (QUEUED, SENDING)
PINGONE_TWILIO = "PINGONE_TWILIO"


def reports_by_twilio_callback(provider: str) -> bool:
    """Twilio senders (ours and the platform's) are asked for status callbacks, and only theirs are taken."""
    return provider.startswith(("CUSTOM_TWILIO", PINGONE_TWILIO))


# Attempt outcomes
IN_PROGRESS = "IN_PROGRESS"  # written before the provider is called
SUCCEEDED = "SENT"
TRANSIENT = "FAILED_TRANSIENT"  # timeout, connection error, 5xx, 429: retried at the same sender
SENDER_FAILED = "FAILED_SENDER"  # the sender cannot send this: next sender at once
RECIPIENT_FAILED = "FAILED_RECIPIENT"  # the recipient cannot be reached: the notification fails
UNKNOWN = "UNKNOWN"  # the worker died after calling the provider; the message may have gone out
# phone-delivery's own fault (a key it cannot find, a bug): not the sender's, so the notification
# stays at this sender and waits; it never moves along the chain.
INTERNAL = "FAILED_INTERNAL"
ATTEMPT_OUTCOMES = (IN_PROGRESS, SUCCEEDED, TRANSIENT, SENDER_FAILED, RECIPIENT_FAILED, INTERNAL, UNKNOWN)


# A user id names the counters of its quotas and cooldowns, and is stored as text: no control
# characters (PostgreSQL text cannot even hold a NUL).
USER_ID = r"^[^\x00-\x1f\x7f]+$"


class _User(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    id: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=USER_ID)]


class _PolicyRef(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


DELIVERY_METHODS = ("SMS", "VOICE")


class SendRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    deliveryMethod: Literal["SMS", "VOICE"]
    to: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    message: Annotated[str, StringConstraints(min_length=1, max_length=1600)]
    otp: Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z]+$")] | None = None
    locale: (
        Annotated[str, StringConstraints(max_length=35, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] | None
    ) = None
    user: _User | None = None
    policy: _PolicyRef | None = None  # the notification policy that applies; else the default one


@dataclass(frozen=True)
class AcceptedRequest:
    delivery_method: str
    to: str  # E.164
    country: str | None
    message: str
    otp: str | None
    locale: str | None
    user_id: str | None
    fingerprint: str  # identifies the request for Idempotency-Key reuse checks
    policy_id: str | None = None


def normalise_number(raw: str, target: str = "to") -> tuple[str, str | None]:
    """E.164 and its ISO country, or ``InvalidData`` on ``target``. Numbers must carry a country code."""
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        raise InvalidData.single(
            "INVALID_VALUE", target, "Not a phone number in international format (for example +14155552671)."
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidData.single("INVALID_VALUE", target, "The phone number is not valid for its country.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), phonenumbers.region_code_for_number(
        parsed
    )


def accept(body: dict[str, Any]) -> AcceptedRequest:
    request = parse(SendRequest, body)
    to, country = normalise_number(request.to)
    fingerprint = hashlib.sha256(
        json.dumps(
            [
                request.deliveryMethod,
                to,
                request.message,
                request.otp,
                request.locale,
                request.user.id if request.user else None,
                *([request.policy.id] if request.policy else []),
            ]
        ).encode()
    ).hexdigest()
    return AcceptedRequest(
        request.deliveryMethod,
        to,
        country,
        request.message,
        request.otp,
        request.locale,
        request.user.id if request.user else None,
        fingerprint,
        request.policy.id if request.policy else None,
    )


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 1.0
    max_seconds: float = 30.0
    tries_per_sender: int = 3
    give_up_seconds: float = 3600.0  # how long a notification waits out our own errors

    def backoff(self, tries: int, retry_after: float | None) -> float:
        """Capped exponential backoff with full jitter; never sooner than the provider's Retry-After."""
        ceiling = min(self.max_seconds, self.base_seconds * (2 ** max(tries - 1, 0)))
        delay = random.uniform(ceiling / 2, ceiling)
        return max(delay, retry_after or 0.0)


@dataclass
class Step:
    """What to do after a try."""

    kind: str  # DONE, RETRY, NEXT, FAIL, or WAIT (our own error: retry later, not counted as a try)
    delay: float = 0.0
    reason: str = ""


def after_try(
    outcome: str,
    tries_here: int,
    position: int,
    chain_length: int,
    policy: RetryPolicy,
    retry_after: float | None = None,
    *,
    provider_called: bool = False,
    age_seconds: float = 0.0,
) -> Step:
    """``provider_called``: the outcome came after the provider was asked (so the message may have
    gone out); ``age_seconds``: how long ago the notification was accepted."""
    if outcome == SUCCEEDED:
        return Step("DONE")
    if outcome == INTERNAL:
        # Ours, never the sender's: no try counted, no next sender. Before the provider was asked
        # (a key, the database), wait and try again, for a while; during the provider call (a bug
        # reading its answer, say), the message may have gone out and trying again would repeat
        # the bug and perhaps the message: fail.
        if provider_called:
            return Step(
                "FAIL",
                reason="phone-delivery failed while sending; the message may or may not have gone out. See the log.",
            )
        if age_seconds >= policy.give_up_seconds:
            return Step("FAIL", reason=f"phone-delivery could not send it for {int(age_seconds)} s; see the log.")
        return Step("WAIT", delay=policy.max_seconds)
    if outcome == RECIPIENT_FAILED:
        return Step("FAIL", reason="The recipient cannot be reached.")
    if outcome == TRANSIENT and tries_here < policy.tries_per_sender:
        return Step("RETRY", delay=policy.backoff(tries_here, retry_after))
    if position + 1 < chain_length:
        return Step("NEXT")
    return Step("FAIL", reason="Every sender in the chain failed.")
