"""The sandbox's timestamps: ISO 8601 in UTC to the second, as Twilio's v1/v2 APIs write them."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
