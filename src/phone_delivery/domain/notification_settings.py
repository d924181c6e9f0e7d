"""PingOne's notificationsSettings singleton: the sender fallback chain and the email fields."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from phone_delivery.domain.errors import Detail, InvalidData
from phone_delivery.domain.notifications import PINGONE_TWILIO
from phone_delivery.domain.validation import parse

DEFAULTS: dict[str, Any] = {
    "deliveryMode": "ALL",
    "smsProvidersFallbackChain": [],
    "whitelist": [],
    "from": None,
    "replyTo": None,
}


class _Address(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    address: Annotated[str, StringConstraints(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]


class _UserRef(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class _WhitelistItem(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    user: _UserRef


class SettingsBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True)

    deliveryMode: Literal["ALL", "WHITELIST"] = "ALL"
    smsProvidersFallbackChain: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=list, max_length=11
    )
    whitelist: list[_WhitelistItem] = Field(default_factory=list, max_length=50)
    from_: _Address | None = Field(default=None, alias="from")
    replyTo: _Address | None = None


def parse_settings(body: dict[str, Any], sender_ids: Collection[str]) -> dict[str, Any]:
    """The stored settings; every chain entry must be a sender of this environment or PINGONE_TWILIO."""
    model = parse(SettingsBody, body)
    details = []
    seen: set[str] = set()
    for index, entry in enumerate(model.smsProvidersFallbackChain):
        target = f"smsProvidersFallbackChain[{index}]"
        if entry in seen:
            details.append(Detail("INVALID_VALUE", "A sender appears twice in the chain.", target))
        seen.add(entry)
        if entry != PINGONE_TWILIO and entry not in sender_ids:
            details.append(
                Detail(
                    "INVALID_VALUE",
                    "Not a phone delivery settings id of this environment, nor PINGONE_TWILIO.",
                    target,
                )
            )
    if details:
        raise InvalidData(details=details)
    return {
        "deliveryMode": model.deliveryMode,
        "smsProvidersFallbackChain": list(model.smsProvidersFallbackChain),
        "whitelist": [{"user": {"id": item.user.id}} for item in model.whitelist],
        "from": model.from_.model_dump(exclude_none=True) if model.from_ else None,
        "replyTo": model.replyTo.model_dump(exclude_none=True) if model.replyTo else None,
    }


def new_settings_id() -> str:
    return str(uuid.uuid4())
