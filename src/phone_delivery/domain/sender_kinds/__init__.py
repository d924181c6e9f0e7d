"""What each ``provider`` value of phoneDeliverySettings accepts, and how a stored sender is built.

A *kind* parses a create or replace body, checks PingOne's rules for that provider, and merges
what the provider's account offers (its inventory) into the stored, non-secret configuration.
One module per provider; ``SENDER_KINDS`` is the explicit registry.
"""

from __future__ import annotations

from phone_delivery.domain.sender_kinds.base import ALL_PROVIDERS, SenderDraft, SenderKind
from phone_delivery.domain.sender_kinds.custom_provider import CustomProviderKind
from phone_delivery.domain.sender_kinds.syniverse import SyniverseChannelsKind, SyniverseKind
from phone_delivery.domain.sender_kinds.twilio_messaging_service import TwilioMessagingServiceKind
from phone_delivery.domain.sender_kinds.twilio_numbers import TwilioNumbersKind
from phone_delivery.domain.sender_kinds.twilio_verify import TwilioVerifyKind

SENDER_KINDS: dict[str, SenderKind] = {
    kind.provider: kind
    for kind in (
        TwilioNumbersKind(),
        TwilioMessagingServiceKind(),
        TwilioVerifyKind(),
        SyniverseKind(),
        SyniverseChannelsKind(),
        CustomProviderKind(),
    )
}

__all__ = ["ALL_PROVIDERS", "SENDER_KINDS", "SenderDraft", "SenderKind"]
