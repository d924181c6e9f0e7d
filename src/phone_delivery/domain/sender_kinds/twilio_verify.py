"""``CUSTOM_TWILIO_VERIFY``: the tenant's Twilio account and one Verify Service."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from phone_delivery.domain.errors import Detail
from phone_delivery.domain.models import Sender
from phone_delivery.domain.ports import AccountInventory
from phone_delivery.domain.sender_kinds.base import Name, Secret, SenderDraft, parse_checked
from phone_delivery.domain.sender_kinds.twilio_common import (
    VERIFY_SERVICE_SID,
    account_sid_details,
    check_credentials_unchanged,
)


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    provider: Literal["CUSTOM_TWILIO_VERIFY"]
    id: str | None = None
    name: Name | None = None
    sid: str
    authToken: Secret
    verifyServiceId: str


def verify_sid_details(value: Any) -> list[Detail]:
    if not isinstance(value, str) or VERIFY_SERVICE_SID.fullmatch(value):
        return []
    return [
        Detail(
            "INVALID_VALUE",
            "verifyServiceId must be a Twilio Verify Service SID: VA followed by 32 hexadecimal characters.",
            "verifyServiceId",
            {"allowedPattern": VERIFY_SERVICE_SID.pattern},
        )
    ]


class TwilioVerifyKind:
    provider = "CUSTOM_TWILIO_VERIFY"

    def parse_create(self, body: dict[str, Any]) -> SenderDraft:
        extra = account_sid_details(body.get("sid")) + verify_sid_details(body.get("verifyServiceId"))
        model = parse_checked(_Body, body, extra)
        return SenderDraft(
            self.provider,
            model.name,
            {"sid": model.sid, "verifyServiceId": model.verifyServiceId},
            {"authToken": model.authToken},
            body_id=model.id,
        )

    parse_replace = parse_create

    def check_replace(self, existing: Sender, draft: SenderDraft) -> None:
        """The Verify Service may be changed (it is checked again); the account and token may not."""
        check_credentials_unchanged(existing, draft)

    def build_config(self, draft: SenderDraft, inventory: AccountInventory, existing: Sender | None) -> dict[str, Any]:
        return {"sid": draft.config["sid"], "verifyServiceId": draft.config["verifyServiceId"]}

    def urls(self, draft: SenderDraft) -> list[tuple[str, str]]:
        return []

    def delivery_methods(self, config: dict[str, Any]) -> frozenset[str]:
        """Verify sends by SMS or by call, whichever is asked."""
        return frozenset({"SMS", "VOICE"})
