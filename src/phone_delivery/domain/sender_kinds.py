"""What each ``provider`` value of phoneDeliverySettings accepts, and how a stored sender is built.

A *kind* parses a create or replace body, checks PingOne's rules for that provider, and merges
what the provider's account offers (its inventory) into the stored, non-secret configuration.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, StringConstraints

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

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

Name = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=512)]


@dataclass
class SenderDraft:
    """A validated request body: what the caller asked for, secrets kept apart."""

    provider: str
    name: str | None
    config: dict[str, Any]
    secrets: dict[str, str]
    body_id: str | None = None


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


def account_sid_details(sid: Any) -> list[Detail]:
    """Why ``sid`` is not a Twilio Account SID (empty when it is, or when it is not a string)."""
    if not isinstance(sid, str) or ACCOUNT_SID.match(sid):
        return []
    if MESSAGING_SERVICE_SID.match(sid):
        message = (
            "sid must be the Twilio Account SID (AC followed by 32 hexadecimal characters), not a "
            "Messaging Service SID (MG...). The account's Messaging Services are read from Twilio "
            "and returned in messagingServices."
        )
    else:
        message = "sid must be a Twilio Account SID: AC followed by 32 hexadecimal characters."
    return [Detail("INVALID_VALUE", message, "sid", {"allowedPattern": ACCOUNT_SID.pattern})]


def parse_twilio_body(model: type[ModelT], body: dict[str, Any]) -> ModelT:
    """Schema validation plus the Account SID rule, reported together."""
    details = account_sid_details(body.get("sid"))
    try:
        parsed = parse(model, body)
    except InvalidData as exc:
        raise InvalidData(details=[*exc.details, *details]) from None
    if details:
        raise InvalidData(details=details)
    return parsed


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def immutable_detail(field: str, why: str = "") -> Detail:
    return Detail("INVALID_VALUE", f"{field} cannot be changed after the sender is created.{why}", field)


class _MessagingServiceCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    provider: Literal["CUSTOM_TWILIO_MESSAGING_SERVICE"]
    name: Name
    sid: str
    authToken: Secret


class _MessagingServiceItem(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    messagingServiceId: str
    name: str | None = None
    selected: bool = False


class _MessagingServiceReplace(_MessagingServiceCreate):
    id: str | None = None
    messagingServices: list[_MessagingServiceItem]


class TwilioMessagingServiceKind:
    """``CUSTOM_TWILIO_MESSAGING_SERVICE``: create lists the account's services; PUT selects one."""

    provider = "CUSTOM_TWILIO_MESSAGING_SERVICE"

    def parse_create(self, body: dict[str, Any]) -> SenderDraft:
        model = parse_twilio_body(_MessagingServiceCreate, body)
        return SenderDraft(self.provider, model.name, {"sid": model.sid}, {"authToken": model.authToken})

    def parse_replace(self, body: dict[str, Any]) -> SenderDraft:
        model = parse_twilio_body(_MessagingServiceReplace, body)
        chosen = [i for i, item in enumerate(model.messagingServices) if item.selected]
        if len(chosen) > 1:
            raise InvalidData.single(
                "INVALID_VALUE",
                "messagingServices",
                "Only one of the messaging services can be selected (selected: true).",
            )
        selected = model.messagingServices[chosen[0]].messagingServiceId if chosen else None
        return SenderDraft(
            self.provider,
            model.name,
            {"sid": model.sid, "selected": selected, "selectedIndex": chosen[0] if chosen else None},
            {"authToken": model.authToken},
            body_id=model.id,
        )

    def check_replace(self, existing: Sender, draft: SenderDraft) -> None:
        details = []
        if draft.config["sid"] != existing.config["sid"]:
            details.append(immutable_detail("sid", " Create a new sender for another Twilio account."))
        if not same_secret(draft.secrets["authToken"], existing.secrets["authToken"]):
            details.append(
                immutable_detail(
                    "authToken",
                    " Send the token the sender was created with; to rotate it, create a new "
                    "sender and delete this one.",
                )
            )
        if details:
            raise InvalidData(details=details)

    def build_config(self, draft: SenderDraft, inventory: AccountInventory, existing: Sender | None) -> dict[str, Any]:
        services = inventory.messaging_services
        if not services:
            raise InvalidData.single(
                "INVALID_VALUE",
                "sid",
                "The Twilio account has no Messaging Service. Create one in Twilio, then create this sender.",
            )
        selected = draft.config.get("selected")
        if selected is not None and selected not in {s.sid for s in services}:
            index = draft.config.get("selectedIndex")
            raise InvalidData.single(
                "INVALID_VALUE",
                f"messagingServices[{index}].messagingServiceId",
                "The selected Messaging Service does not exist in the Twilio account.",
            )
        return {
            "sid": draft.config["sid"],
            "messagingServices": [
                {"messagingServiceId": s.sid, "name": s.name, "selected": s.sid == selected} for s in services
            ],
        }


SENDER_KINDS: dict[str, SenderKind] = {kind.provider: kind for kind in (TwilioMessagingServiceKind(),)}
