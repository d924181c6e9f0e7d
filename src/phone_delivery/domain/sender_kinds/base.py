"""What every sender kind shares: the draft, the protocol, common field types and helpers."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from pydantic import StringConstraints

from phone_delivery.domain.errors import Detail, InvalidData
from phone_delivery.domain.models import Sender
from phone_delivery.domain.ports import AccountInventory
from phone_delivery.domain.validation import ModelT, parse

ALL_PROVIDERS = (
    "CUSTOM_TWILIO",
    "CUSTOM_TWILIO_MESSAGING_SERVICE",
    "CUSTOM_TWILIO_VERIFY",
    "CUSTOM_SYNIVERSE",
    "CUSTOM_SYNIVERSE_CHANNELS",
    "CUSTOM_PROVIDER",
)

Name = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


@dataclass
class SenderDraft:
    """A validated request body: what the caller asked for, secrets kept apart.

    ``config`` holds the non-secret fields as they will be stored (before the provider's
    inventory is merged in); ``requested`` holds selections to merge (numbers, services, ...).
    """

    provider: str
    name: str | None
    config: dict[str, Any]
    secrets: dict[str, str]
    body_id: str | None = None
    requested: dict[str, Any] = field(default_factory=dict)


class SenderKind(Protocol):
    provider: str

    def parse_create(self, body: dict[str, Any]) -> SenderDraft: ...

    def parse_replace(self, body: dict[str, Any]) -> SenderDraft: ...

    def check_replace(self, existing: Sender, draft: SenderDraft) -> None:
        """Reject changes to immutable fields before any provider call."""
        ...

    def build_config(self, draft: SenderDraft, inventory: AccountInventory, existing: Sender | None) -> dict[str, Any]:
        """The stored configuration after a create (existing is None) or a replace."""
        ...

    def urls(self, draft: SenderDraft) -> list[tuple[str, str]]:
        """(target, url) pairs that must pass the outbound address guard."""
        ...

    def delivery_methods(self, config: dict[str, Any]) -> frozenset[str]:
        """What a stored sender can deliver at all (SMS, VOICE), whatever the destination's country:
        a send whose whole chain can deliver neither is refused when it is accepted."""
        ...


def selected_capabilities(items: list[dict[str, Any]] | None) -> frozenset[str]:
    """The capabilities of the selected numbers or channels that are still available."""
    return frozenset(
        capability
        for item in items or []
        if item.get("selected") and item.get("available", True)
        for capability in item.get("capabilities") or []
    )


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def immutable_detail(field_name: str, why: str = "") -> Detail:
    return Detail("INVALID_VALUE", f"{field_name} cannot be changed after the sender is created.{why}", field_name)


def parse_checked(model: type[ModelT], body: dict[str, Any], extra: list[Detail]) -> ModelT:
    """Schema validation plus rules checked on the raw body, all reported together."""
    try:
        parsed = parse(model, body)
    except InvalidData as exc:
        raise InvalidData(details=[*exc.details, *extra]) from None
    if extra:
        raise InvalidData(details=extra)
    return parsed


def raise_if(details: list[Detail]) -> None:
    if details:
        raise InvalidData(details=details)
