"""Rules shared by the three Twilio kinds: the Account SID and the immutable credentials."""

from __future__ import annotations

import re
from typing import Any

from phone_delivery.domain.errors import Detail
from phone_delivery.domain.models import Sender
from phone_delivery.domain.sender_kinds.base import SenderDraft, immutable_detail, raise_if, same_secret

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
VERIFY_SERVICE_SID = re.compile(r"^VA[0-9a-fA-F]{32}$")


def account_sid_details(sid: Any) -> list[Detail]:
    """Why ``sid`` is not a Twilio Account SID (empty when it is, or when it is not a string)."""
    if not isinstance(sid, str) or ACCOUNT_SID.fullmatch(sid):
        return []
    if MESSAGING_SERVICE_SID.fullmatch(sid):
        message = (
            "sid must be the Twilio Account SID (AC followed by 32 hexadecimal characters), not a "
            "Messaging Service SID (MG...). The account's Messaging Services are read from Twilio "
            "and returned in messagingServices."
        )
    elif VERIFY_SERVICE_SID.fullmatch(sid):
        message = (
            "sid must be the Twilio Account SID (AC followed by 32 hexadecimal characters); the Verify "
            "Service SID (VA...) goes in verifyServiceId."
        )
    else:
        message = "sid must be a Twilio Account SID: AC followed by 32 hexadecimal characters."
    return [Detail("INVALID_VALUE", message, "sid", {"allowedPattern": ACCOUNT_SID.pattern})]


def check_credentials_unchanged(existing: Sender, draft: SenderDraft, *, with_sid: bool = True) -> None:
    details = []
    if with_sid and draft.config.get("sid") != existing.config.get("sid"):
        details.append(immutable_detail("sid", " Create a new sender for another account."))
    if not same_secret(draft.secrets["authToken"], existing.secrets["authToken"]):
        details.append(
            immutable_detail(
                "authToken",
                " Send the token the sender was created with; to rotate it, create a new sender and delete this one.",
            )
        )
    raise_if(details)
