"""``CUSTOM_TWILIO_MESSAGING_SERVICE``: create lists the account's services; PUT selects one."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from phone_delivery.domain.errors import InvalidData
from phone_delivery.domain.models import Sender
from phone_delivery.domain.ports import AccountInventory
from phone_delivery.domain.sender_kinds.base import Name, Secret, SenderDraft, parse_checked
from phone_delivery.domain.sender_kinds.twilio_common import account_sid_details, check_credentials_unchanged


class _Create(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    provider: Literal["CUSTOM_TWILIO_MESSAGING_SERVICE"]
    name: Name
    sid: str
    authToken: Secret


class _Service(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    messagingServiceId: str
    name: str | None = None
    selected: bool = False


class _Replace(_Create):
    id: str | None = None
    messagingServices: list[_Service]


class TwilioMessagingServiceKind:
    provider = "CUSTOM_TWILIO_MESSAGING_SERVICE"

    def parse_create(self, body: dict[str, Any]) -> SenderDraft:
        model = parse_checked(_Create, body, account_sid_details(body.get("sid")))
        return SenderDraft(self.provider, model.name, {"sid": model.sid}, {"authToken": model.authToken})

    def parse_replace(self, body: dict[str, Any]) -> SenderDraft:
        model = parse_checked(_Replace, body, account_sid_details(body.get("sid")))
        chosen = [i for i, item in enumerate(model.messagingServices) if item.selected]
        if len(chosen) > 1:
            raise InvalidData.single(
                "INVALID_VALUE",
                "messagingServices",
                "Only one of the messaging services can be selected (selected: true).",
            )
        selected = (chosen[0], model.messagingServices[chosen[0]].messagingServiceId) if chosen else None
        return SenderDraft(
            self.provider,
            model.name,
            {"sid": model.sid},
            {"authToken": model.authToken},
            body_id=model.id,
            requested={"selected": selected},
        )

    def check_replace(self, existing: Sender, draft: SenderDraft) -> None:
        check_credentials_unchanged(existing, draft)

    def build_config(self, draft: SenderDraft, inventory: AccountInventory, existing: Sender | None) -> dict[str, Any]:
        services = inventory.messaging_services
        if not services:
            raise InvalidData.single(
                "INVALID_VALUE",
                "sid",
                "The Twilio account has no Messaging Service. Create one in Twilio, then create this sender.",
            )
        selected = draft.requested.get("selected")
        if selected is not None and selected[1] not in {s.sid for s in services}:
            raise InvalidData.single(
                "INVALID_VALUE",
                f"messagingServices[{selected[0]}].messagingServiceId",
                "The selected Messaging Service does not exist in the Twilio account.",
            )
        chosen = selected[1] if selected else None
        return {
            "sid": draft.config["sid"],
            "messagingServices": [
                {"messagingServiceId": s.sid, "name": s.name, "selected": s.sid == chosen} for s in services
            ],
        }

    def urls(self, draft: SenderDraft) -> list[tuple[str, str]]:
        return []

    def delivery_methods(self, config: dict[str, Any]) -> frozenset[str]:
        """SMS only, and only once a Messaging Service is selected."""
        selected = any(s.get("selected") for s in config.get("messagingServices") or [])
        return frozenset({"SMS"}) if selected else frozenset()
