"""Interfaces the domain needs from the outside, implemented in ``providers``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

EXPAND_VERIFY_TEMPLATES = "twilioverifytemplates"


@dataclass(frozen=True)
class MessagingServiceInfo:
    """A Twilio Messaging Service as listed by the account."""

    sid: str
    name: str


@dataclass(frozen=True)
class NumberInfo:
    """A number the account owns: ``type`` PHONE_NUMBER, TOLL_FREE or SHORT_CODE; SMS/VOICE."""

    number: str
    type: str
    capabilities: tuple[str, ...]


@dataclass(frozen=True)
class ChannelInfo:
    """A Syniverse channel."""

    id: str
    name: str
    priority: str
    capabilities: tuple[str, ...]
    created_at: str | None


@dataclass(frozen=True)
class VerifyTemplateInfo:
    sid: str
    name: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class AccountInventory:
    """What a provider account offers to send with. Each provider fills the parts it has."""

    messaging_services: list[MessagingServiceInfo] = field(default_factory=list)
    numbers: list[NumberInfo] = field(default_factory=list)
    channels: list[ChannelInfo] = field(default_factory=list)
    verify_service_name: str | None = None
    verify_templates: list[VerifyTemplateInfo] | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """One delivery attempt's input. ``message`` and ``otp`` are never logged."""

    notification_id: str
    delivery_method: str  # SMS or VOICE
    to: str  # E.164
    country: str | None  # ISO alpha-2 of ``to``
    message: str
    otp: str | None = None
    locale: str | None = None
    status_callback: str | None = None


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None
    detail: str = ""  # the provider's own status or reply, for test sends


class SenderProvider(Protocol):
    """The one interface every vendor implements.

    Built per use from one sender's configuration and secrets. Methods raise only
    ``ProviderRejected`` (permanent) or ``ProviderUnavailable`` (transient).
    """

    display_name: str

    async def inventory(self, expand: frozenset[str] = frozenset()) -> AccountInventory:
        """Check the credentials live and list what the account can send with.

        ``expand`` asks for optional extras (``twilioverifytemplates``).
        """
        ...

    async def send(self, message: OutboundMessage) -> SendResult:
        """Hand one message to the provider. A ``ProviderRejected`` whose ``extra["kind"]`` is
        ``"recipient"`` means the recipient can never be reached this way (no failover)."""
        ...


# (non-secret config, secrets) -> provider for that one sender
ProviderFactory = Callable[[Mapping[str, Any], Mapping[str, str]], SenderProvider]


class UrlGuard(Protocol):
    """Refuses outbound URLs that are certainly bad (scheme, user info, loopback names, refused IP
    literals in any spelling) without the network; names are checked at every connection."""

    def problem(self, url: str) -> str | None:
        """Why ``url`` may not be called (None when it may, as far as can be told without DNS)."""
        ...
