"""The sandbox's in-memory state: accounts, Messaging Services, fault switches, received requests."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from phone_delivery.sandbox.clock import iso_now
from phone_delivery.sandbox.inbox_store import InboxStore


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class IncomingNumber:
    sid: str
    phone_number: str
    sms: bool
    voice: bool
    date_created: str = field(default_factory=iso_now)


@dataclass
class MessagingService:
    sid: str
    account_sid: str
    friendly_name: str
    date_created: str = field(default_factory=iso_now)
    sender_pool: list[IncomingNumber] = field(default_factory=list)  # the service's phone numbers


@dataclass
class ShortCode:
    sid: str
    short_code: str


@dataclass
class VerifyService:
    sid: str
    friendly_name: str
    code_length: int = 6
    date_created: str = field(default_factory=iso_now)


@dataclass
class Verification:
    """A Verify verification: pending until checked with its code, expired after ten minutes."""

    sid: str
    service_sid: str
    to: str
    channel: str
    code: str = field(repr=False)
    created: float = field(default_factory=time.time)
    date_created: str = field(default_factory=iso_now)
    date_updated: str = field(default_factory=iso_now)
    status: str = "pending"
    send_code_attempts: list[dict[str, Any]] = field(default_factory=list)
    check_attempts: int = 0


@dataclass
class VerifyTemplate:
    sid: str
    friendly_name: str
    channels: list[str]


@dataclass
class Account:
    sid: str
    auth_token: str = field(repr=False)
    friendly_name: str
    messaging_services: list[MessagingService] = field(default_factory=list)
    numbers: list[IncomingNumber] = field(default_factory=list)
    short_codes: list[ShortCode] = field(default_factory=list)
    verify_services: list[VerifyService] = field(default_factory=list)
    verify_templates: list[VerifyTemplate] = field(default_factory=list)
    date_created: str = field(default_factory=iso_now)
    # What was sent through the account, as Twilio's resources (snake_case), oldest first.
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    verifications: dict[str, Verification] = field(default_factory=dict)


@dataclass
class SyniverseAccount:
    """A Syniverse application: its access token, sender ids and channels."""

    token: str = field(repr=False)
    sender_ids: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    message_requests: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str = field(repr=False)
    expires_in: int = 3600


@dataclass
class GatewayRequest:
    """Everything a custom provider sent to the generic gateway, exactly as received."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: str
    at: float


@dataclass
class Fault:
    """The next ``remaining`` matching calls wait ``latency_ms`` and, when ``status`` is set, fail."""

    remaining: int
    status: int | None = None
    code: int | None = None
    message: str | None = None
    latency_ms: int = 0
    path_contains: str | None = None
    account_sid: str | None = None  # only calls made as this Twilio account (None: any call)
    retry_after: int | None = None


@dataclass
class NumberScript:
    """What happens to messages and calls to one number (see docs/sandbox.md, Scripted numbers)."""

    phone_number: str
    refuse: int | None = None  # a Twilio error code returned at create (21610, 21614, 21211...)
    outcome: str = "delivered"  # the final message status: delivered, undelivered or failed
    error_code: int | None = None  # with undelivered / failed (30003, 30005, 30006, 30007...)
    delay_ms: int = 0  # how long the message stays "sent" before its final status (a slow handset)
    call_outcome: str = "completed"  # completed, busy, no-answer or failed


# The error code of a scripted outcome that names none: Twilio's "unreachable" and "unknown error".
DEFAULT_ERROR_CODES = {"undelivered": 30003, "failed": 30008}
# Twilio's magic test numbers, always scripted (docs/sandbox.md).
MAGIC_NUMBERS = (
    NumberScript("+15005550001", refuse=21211),
    NumberScript("+15005550009", refuse=21614),
    NumberScript("+15005550004", refuse=21610),
    NumberScript("+15005550011", outcome="undelivered", error_code=30003),
)
MESSAGES_KEPT = 10_000  # per account, the newest


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
        self.syniverse: dict[str, SyniverseAccount] = {}
        self.oauth_clients: dict[str, OAuthClient] = {}
        self.oauth_tokens: dict[str, str] = {}
        self.gateway_requests: list[GatewayRequest] = []
        self.inbox = InboxStore()
        self.scripts: dict[str, NumberScript] = {m.phone_number: m for m in MAGIC_NUMBERS}

    def add_account(self, sid: str | None = None, auth_token: str | None = None, friendly_name: str = "") -> Account:
        with self._lock:
            account = Account(
                sid=sid or new_sid("AC"),
                auth_token=auth_token or secrets.token_hex(16),
                friendly_name=friendly_name or "Sandbox account",
            )
            self.accounts[account.sid] = account
            return account

    def remove_account(self, sid: str) -> None:
        with self._lock:
            self.accounts.pop(sid, None)

    def add_messaging_service(
        self, account_sid: str, friendly_name: str, sid: str | None = None, phone_numbers: list[str] | None = None
    ) -> MessagingService:
        """A Messaging Service; ``phone_numbers`` form its sender pool (added to the account if new)."""
        pool = [self._number_of(account_sid, n) for n in phone_numbers or []]
        with self._lock:
            service = MessagingService(sid or new_sid("MG"), account_sid, friendly_name, sender_pool=pool)
            self.accounts[account_sid].messaging_services.append(service)
            return service

    def _number_of(self, account_sid: str, phone_number: str) -> IncomingNumber:
        found = next((n for n in self.accounts[account_sid].numbers if n.phone_number == phone_number), None)
        return found or self.add_number(account_sid, phone_number)

    def keep_resource(self, account: Account, resource: dict[str, Any]) -> None:
        """Keep a sent message or call (the newest ``MESSAGES_KEPT`` of each kind)."""
        kept = account.calls if resource["sid"].startswith("CA") else account.messages
        with self._lock:
            kept[resource["sid"]] = resource
            while len(kept) > MESSAGES_KEPT:
                del kept[next(iter(kept))]

    def forget_resource(self, account: Account, sid: str) -> None:
        with self._lock:
            (account.calls if sid.startswith("CA") else account.messages).pop(sid, None)

    def keep_verification(self, account: Account, verification: Verification) -> None:
        """Keep a verification (the newest ``MESSAGES_KEPT``; older ones have long expired)."""
        with self._lock:
            account.verifications[verification.sid] = verification
            while len(account.verifications) > MESSAGES_KEPT:
                del account.verifications[next(iter(account.verifications))]

    def remove_number(self, account_sid: str, phone_number: str) -> bool:
        """The number leaves the account and every sender pool it was in."""
        with self._lock:
            account = self.accounts[account_sid]
            before = len(account.numbers)
            account.numbers = [n for n in account.numbers if n.phone_number != phone_number]
            for service in account.messaging_services:
                service.sender_pool = [n for n in service.sender_pool if n.phone_number != phone_number]
            return len(account.numbers) != before

    def list_scripts(self) -> list[NumberScript]:
        with self._lock:
            return list(self.scripts.values())

    def clear_gateway_requests(self) -> None:
        with self._lock:
            self.gateway_requests.clear()

    def script_for(self, phone_number: str) -> NumberScript:
        with self._lock:
            return self.scripts.get(phone_number) or NumberScript(phone_number)

    def set_script(self, script: NumberScript) -> None:
        with self._lock:
            self.scripts[script.phone_number] = script

    def clear_scripts(self) -> None:
        """Forget every script but Twilio's magic numbers."""
        with self._lock:
            self.scripts = {m.phone_number: m for m in MAGIC_NUMBERS}

    def add_number(self, account_sid: str, phone_number: str, sms: bool = True, voice: bool = True) -> IncomingNumber:
        with self._lock:
            number = IncomingNumber(new_sid("PN"), phone_number, sms, voice)
            self.accounts[account_sid].numbers.append(number)
            return number

    def add_short_code(self, account_sid: str, short_code: str) -> ShortCode:
        with self._lock:
            code = ShortCode(new_sid("SC"), short_code)
            self.accounts[account_sid].short_codes.append(code)
            return code

    def add_verify_service(
        self, account_sid: str, friendly_name: str, sid: str | None = None, code_length: int = 6
    ) -> VerifyService:
        with self._lock:
            service = VerifyService(sid or new_sid("VA"), friendly_name, code_length)
            self.accounts[account_sid].verify_services.append(service)
            return service

    def add_verify_template(self, account_sid: str, friendly_name: str, channels: list[str]) -> VerifyTemplate:
        with self._lock:
            template = VerifyTemplate(new_sid("HJ"), friendly_name, channels)
            self.accounts[account_sid].verify_templates.append(template)
            return template

    def add_syniverse_account(
        self, token: str | None, sender_ids: list[dict[str, Any]], channels: list[dict[str, Any]]
    ) -> SyniverseAccount:
        with self._lock:
            account = SyniverseAccount(token or secrets.token_urlsafe(24))
            for sender in sender_ids:
                account.sender_ids.append(
                    {
                        "id": secrets.token_hex(8),
                        "address": sender["address"],
                        "name": sender.get("name", ""),
                        "class_id": "COMMERCIAL",
                        "type_id": sender.get("type", "LONGCODE"),
                        "state": sender.get("state", "ACTIVE"),
                        "country": sender.get("country", "US"),
                        "capabilities": sender.get("capabilities", ["SMS"]),
                    }
                )
            for channel in channels:
                account.channels.append(
                    {
                        "id": secrets.token_hex(8),
                        "name": channel["name"],
                        "priority": channel.get("priority", "NORMAL"),
                        "capabilities": channel.get("capabilities", ["SMS"]),
                        "created_date": int(time.time() * 1000),
                    }
                )
            self.syniverse[account.token] = account
            return account

    def add_oauth_client(self, client_id: str | None, client_secret: str | None, expires_in: int) -> OAuthClient:
        with self._lock:
            client = OAuthClient(
                client_id or secrets.token_hex(8), client_secret or secrets.token_urlsafe(24), expires_in
            )
            self.oauth_clients[client.client_id] = client
            return client

    def issued_oauth_tokens(self) -> dict[str, str]:
        """Every access token the OAuth2 endpoint issued, with the client it was issued to."""
        with self._lock:
            return dict(self.oauth_tokens)

    def issue_oauth_token(self, client_id: str) -> str:
        with self._lock:
            token = secrets.token_urlsafe(24)
            self.oauth_tokens[token] = client_id
            return token

    def deliver(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Put what a provider 'delivered' in the inbox."""
        return self.inbox.add(entry)

    def record_gateway(self, request: GatewayRequest) -> None:
        with self._lock:
            self.gateway_requests.append(request)
            if len(self.gateway_requests) > 10_000:
                del self.gateway_requests[:1_000]

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

    def take_fault(self, path: str, account_sid: str | None = None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if (
                    fault.remaining > 0
                    and (not fault.path_contains or fault.path_contains in path)
                    and (fault.account_sid is None or fault.account_sid == account_sid)
                ):
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
            self.syniverse.clear()
            self.oauth_clients.clear()
            self.oauth_tokens.clear()
            self.gateway_requests.clear()
        self.clear_scripts()
        self.inbox.clear()

    def snapshot_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [vars(r).copy() for r in self.requests]
