"""Helpers for the sandbox inbox tests: a sandbox served over real HTTP, entries as providers make them."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from phone_delivery.sandbox.app import create_sandbox_app
from phone_delivery.sandbox.state import SandboxState
from tests.support import LiveServer


@dataclass
class ServedSandbox:
    state: SandboxState
    server: LiveServer
    http: httpx.Client

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def served(state: SandboxState) -> Iterator[ServedSandbox]:
    server = LiveServer(create_sandbox_app(state)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield ServedSandbox(state, server, http)
    finally:
        server.stop()


def unique_number() -> str:
    return f"+1415{uuid.uuid4().int % 10**7:07d}"


def sms(to: str, body: str, **extra: Any) -> dict[str, Any]:
    """An SMS entry as the Twilio Messages API delivers one."""
    return {
        "id": "SM" + secrets.token_hex(16),
        "kind": "SMS",
        "accountSid": "AC" + "0" * 32,
        "to": to,
        "from": "+15005550006",
        "messagingServiceSid": None,
        "messagingServiceName": None,
        "body": body,
        "status": "queued",
        **extra,
    }


def verification(to: str, code: str, channel: str = "sms") -> dict[str, Any]:
    return {
        "id": "VE" + secrets.token_hex(16),
        "kind": "VERIFICATION",
        "to": to,
        "from": "Login service",
        "verifyServiceSid": "VA" + "1" * 32,
        "channel": channel,
        "code": code,
        "body": f"Your Login service verification code is: {code}",
        "status": "pending",
    }


def call(to: str, twiml: str) -> dict[str, Any]:
    return {
        "id": "CA" + secrets.token_hex(16),
        "kind": "CALL",
        "to": to,
        "from": "+15005550006",
        "twiml": twiml,
        "body": twiml,
        "status": "queued",
    }
