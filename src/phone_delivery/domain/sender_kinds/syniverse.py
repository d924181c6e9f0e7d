"""``CUSTOM_SYNIVERSE`` (numbers are the account's sender ids) and ``CUSTOM_SYNIVERSE_CHANNELS``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from phone_delivery.domain.errors import Detail, InvalidData
from phone_delivery.domain.http_headers import value_problem
from phone_delivery.domain.models import Sender
from phone_delivery.domain.ports import AccountInventory
from phone_delivery.domain.sender_kinds.base import (
    Name,
    Secret,
    SenderDraft,
    immutable_detail,
    raise_if,
    same_secret,
    selected_capabilities,
)
from phone_delivery.domain.sender_kinds.numbers import NumberItem, country_rules, merge_account_numbers
from phone_delivery.domain.validation import parse


def token_rules(token: str) -> list[Detail]:
    """The access token travels in ``Authorization: Bearer``: it must be sendable as it is."""
    problem = value_problem(token)
    return [] if problem is None else [Detail("INVALID_VALUE", f"authToken: {problem}", "authToken")]


def check_token_unchanged(existing: Sender, draft: SenderDraft) -> None:
    if not same_secret(draft.secrets["authToken"], existing.secrets["authToken"]):
        raise_if([immutable_detail("authToken", " To use another token, create a new sender and delete this one.")])


class _NumbersBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    provider: Literal["CUSTOM_SYNIVERSE"]
    id: str | None = None
    name: Name | None = None
    sid: str | None = None  # Ping's SDK sends "" for Syniverse; accepted and ignored
    authToken: Secret
    numbers: list[NumberItem] | None = None


class SyniverseKind:
    provider = "CUSTOM_SYNIVERSE"

    def parse_create(self, body: dict[str, Any]) -> SenderDraft:
        model = parse(_NumbersBody, body)
        raise_if(token_rules(model.authToken) + country_rules(model.numbers or [], custom=False))
        return SenderDraft(
            self.provider,
            model.name,
            {},
            {"authToken": model.authToken},
            body_id=model.id,
            requested={"numbers": model.numbers},
        )

    parse_replace = parse_create

    def check_replace(self, existing: Sender, draft: SenderDraft) -> None:
        check_token_unchanged(existing, draft)

    def build_config(self, draft: SenderDraft, inventory: AccountInventory, existing: Sender | None) -> dict[str, Any]:
        if not inventory.numbers:
            raise InvalidData.single(
                "INVALID_VALUE",
                "authToken",
                "The Syniverse account has no active sender id (phone number, toll-free number or short code).",
            )
        numbers, details = merge_account_numbers(inventory.numbers, draft.requested.get("numbers"))
        raise_if(details)
        # Ping's SDK model requires "sid" on Twilio/Syniverse responses; Syniverse has none.
        return {"sid": "", "numbers": numbers}

    def urls(self, draft: SenderDraft) -> list[tuple[str, str]]:
        return []

    def delivery_methods(self, config: dict[str, Any]) -> frozenset[str]:
        """SMS only, through a selected sender id."""
        return selected_capabilities(config.get("numbers")) & {"SMS"}


class _Channel(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    id: str = Field(min_length=1, max_length=128)
    selected: bool = False


class _ChannelsCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    provider: Literal["CUSTOM_SYNIVERSE_CHANNELS"]
    id: str | None = None
    name: Name | None = None
    authToken: Secret


class _ChannelsReplace(_ChannelsCreate):
    name: Name
    channels: list[_Channel]
    deliveryConfigurationsExist: bool
    smsTopicSubscription: dict[str, Any]
    voiceTopicSubscription: dict[str, Any]


class SyniverseChannelsKind:
    """Create reads the account's channels; PUT selects at most one channel per capability and
    stores the delivery-configuration flag and the two topic subscriptions as given."""

    provider = "CUSTOM_SYNIVERSE_CHANNELS"

    def parse_create(self, body: dict[str, Any]) -> SenderDraft:
        model = parse(_ChannelsCreate, body)
        raise_if(token_rules(model.authToken))
        return SenderDraft(self.provider, model.name, {}, {"authToken": model.authToken}, body_id=model.id)

    def parse_replace(self, body: dict[str, Any]) -> SenderDraft:
        model = parse(_ChannelsReplace, body)
        raise_if(token_rules(model.authToken))
        config = {
            "deliveryConfigurationsExist": model.deliveryConfigurationsExist,
            "smsTopicSubscription": model.smsTopicSubscription,
            "voiceTopicSubscription": model.voiceTopicSubscription,
        }
        selected = [(index, channel.id) for index, channel in enumerate(model.channels) if channel.selected]
        return SenderDraft(
            self.provider,
            model.name,
            config,
            {"authToken": model.authToken},
            body_id=model.id,
            requested={"selected": selected},
        )

    def check_replace(self, existing: Sender, draft: SenderDraft) -> None:
        check_token_unchanged(existing, draft)

    def build_config(self, draft: SenderDraft, inventory: AccountInventory, existing: Sender | None) -> dict[str, Any]:
        if not inventory.channels:
            raise InvalidData.single("INVALID_VALUE", "authToken", "The Syniverse account has no channel.")
        live = {channel.id: channel for channel in inventory.channels}
        selected: list[tuple[int, str]] = draft.requested.get("selected", [])
        details: list[Detail] = []
        taken: dict[str, int] = {}
        for index, channel_id in selected:
            channel = live.get(channel_id)
            if channel is None:
                details.append(
                    Detail(
                        "INVALID_VALUE",
                        "The selected channel does not exist in the Syniverse account.",
                        f"channels[{index}].id",
                    )
                )
                continue
            for capability in channel.capabilities:
                if capability in taken:
                    details.append(
                        Detail(
                            "INVALID_VALUE",
                            f"Only one channel can be selected for {capability}.",
                            f"channels[{index}].selected",
                        )
                    )
                taken[capability] = index
        raise_if(details)
        chosen = {channel_id for _, channel_id in selected}
        channels = [
            {
                "id": c.id,
                "name": c.name,
                "selected": c.id in chosen,
                "available": True,
                **({"createdAt": c.created_at} if c.created_at else {}),
                "priority": c.priority,
                "capabilities": list(c.capabilities),
            }
            for c in inventory.channels
        ]
        previous = existing.config if existing is not None else {}
        return {
            "channels": channels,
            "deliveryConfigurationsExist": draft.config.get(
                "deliveryConfigurationsExist", previous.get("deliveryConfigurationsExist", False)
            ),
            "smsTopicSubscription": draft.config.get("smsTopicSubscription", previous.get("smsTopicSubscription", {})),
            "voiceTopicSubscription": draft.config.get(
                "voiceTopicSubscription", previous.get("voiceTopicSubscription", {})
            ),
        }

    def urls(self, draft: SenderDraft) -> list[tuple[str, str]]:
        return []

    def delivery_methods(self, config: dict[str, Any]) -> frozenset[str]:
        return selected_capabilities(config.get("channels"))
