"""``CUSTOM_TWILIO``: the tenant's Twilio account and its own numbers and short codes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from phone_delivery.domain.errors import InvalidData
from phone_delivery.domain.models import Sender
from phone_delivery.domain.ports import AccountInventory
from phone_delivery.domain.sender_kinds.base import (
    Name,
    Secret,
    SenderDraft,
    parse_checked,
    raise_if,
    selected_capabilities,
)
from phone_delivery.domain.sender_kinds.numbers import NumberItem, country_rules, merge_account_numbers
from phone_delivery.domain.sender_kinds.twilio_common import account_sid_details, check_credentials_unchanged


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    provider: Literal["CUSTOM_TWILIO"]
    id: str | None = None
    name: Name | None = None
    sid: str
    authToken: Secret
    numbers: list[NumberItem] | None = None


class TwilioNumbersKind:
    provider = "CUSTOM_TWILIO"

    def parse_create(self, body: dict[str, Any]) -> SenderDraft:
        model = parse_checked(_Body, body, account_sid_details(body.get("sid")))
        raise_if(country_rules(model.numbers or [], custom=False))
        return SenderDraft(
            self.provider,
            model.name,
            {"sid": model.sid},
            {"authToken": model.authToken},
            body_id=model.id,
            requested={"numbers": model.numbers},
        )

    parse_replace = parse_create

    def check_replace(self, existing: Sender, draft: SenderDraft) -> None:
        check_credentials_unchanged(existing, draft)

    def build_config(self, draft: SenderDraft, inventory: AccountInventory, existing: Sender | None) -> dict[str, Any]:
        if not inventory.numbers:
            raise InvalidData.single(
                "INVALID_VALUE",
                "sid",
                "The Twilio account has no phone numbers or short codes. Buy or port a number in Twilio, then "
                "create this sender.",
            )
        numbers, details = merge_account_numbers(inventory.numbers, draft.requested.get("numbers"))
        raise_if(details)
        return {"sid": draft.config["sid"], "numbers": numbers}

    def urls(self, draft: SenderDraft) -> list[tuple[str, str]]:
        return []

    def delivery_methods(self, config: dict[str, Any]) -> frozenset[str]:
        return selected_capabilities(config.get("numbers"))
