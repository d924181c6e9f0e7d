"""The sandbox's in-memory state: accounts, Messaging Services, fault switches, received requests."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def iso_now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class MessagingService:
    sid: str
    account_sid: str
    friendly_name: str
    date_created: str = field(default_factory=iso_now)


@dataclass
class Account:
    sid: str
    auth_token: str = field(repr=False)
    friendly_name: str
    messaging_services: list[MessagingService] = field(default_factory=list)


@dataclass
class Fault:
    """The next ``remaining`` matching calls wait ``latency_ms`` and, when ``status`` is set, fail."""

    remaining: int
    status: int | None = None
    code: int | None = None
    message: str | None = None
    latency_ms: int = 0
    path_contains: str | None = None
    retry_after: int | None = None


@dataclass
class ReceivedRequest:
    method: str
    path: str
    query: str
    account_sid: str | None
    status: int
    at: float


class SandboxState:
    """Thread-safe: the sandbox may be served from another thread than the one seeding it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.accounts: dict[str, Account] = {}
        self.faults: list[Fault] = []
        self.requests: list[ReceivedRequest] = []

    def add_account(self, sid: str | None = None, auth_token: str | None = None, friendly_name: str = "") -> Account:
        with self._lock:
            account = Account(
                sid=sid or new_sid("AC"),
                auth_token=auth_token or secrets.token_hex(16),
                friendly_name=friendly_name or "Sandbox account",
            )
            self.accounts[account.sid] = account
            return account

    def add_messaging_service(self, account_sid: str, friendly_name: str, sid: str | None = None) -> MessagingService:
        with self._lock:
            service = MessagingService(sid=sid or new_sid("MG"), account_sid=account_sid, friendly_name=friendly_name)
            self.accounts[account_sid].messaging_services.append(service)
            return service

    def remove_messaging_service(self, account_sid: str, service_sid: str) -> bool:
        with self._lock:
            account = self.accounts[account_sid]
            before = len(account.messaging_services)
            account.messaging_services = [s for s in account.messaging_services if s.sid != service_sid]
            return len(account.messaging_services) != before

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.remaining > 0 and (not fault.path_contains or fault.path_contains in path):
                    fault.remaining -= 1
                    return fault
            self.faults = [f for f in self.faults if f.remaining > 0]
            return None

    def record(self, method: str, path: str, query: str, account_sid: str | None, status: int) -> None:
        with self._lock:
            self.requests.append(ReceivedRequest(method, path, query, account_sid, status, time.time()))
            if len(self.requests) > 10_000:
                del self.requests[:1_000]

    def reset(self) -> None:
        with self._lock:
            self.accounts.clear()
            self.faults.clear()
            self.requests.clear()

    def snapshot_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [vars(r).copy() for r in self.requests]
