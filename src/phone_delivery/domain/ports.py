"""Interfaces the domain needs from the outside, implemented in ``providers``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class MessagingServiceInfo:
    """A Twilio Messaging Service as listed by the account."""

    sid: str
    name: str


@dataclass(frozen=True)
class AccountInventory:
    """What a provider account offers to send with. Each provider fills the parts it has."""

    messaging_services: list[MessagingServiceInfo] = field(default_factory=list)


class SenderProvider(Protocol):
    """The one interface every vendor implements.

    Built per use from one sender's configuration and secrets. Methods raise only
    ``ProviderRejected`` (permanent) or ``ProviderUnavailable`` (transient).
    """

    display_name: str

    async def inventory(self) -> AccountInventory:
        """Check the credentials live and list what the account can send with."""
        ...


# (non-secret config, secrets) -> provider for that one sender
ProviderFactory = Callable[[Mapping[str, Any], Mapping[str, str]], SenderProvider]
