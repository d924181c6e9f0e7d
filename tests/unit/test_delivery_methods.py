"""What each sender kind's stored configuration can deliver at all, checked against what its
provider's send does (the accept path refuses a send no entry of the chain can deliver)."""

from __future__ import annotations

from typing import Any

import pytest

from phone_delivery.domain.sender_kinds import SENDER_KINDS


def number(capabilities: list[str], *, selected: bool = True, available: bool = True) -> dict[str, Any]:
    return {
        "number": "+15005550006",
        "type": "PHONE_NUMBER",
        "capabilities": capabilities,
        "selected": selected,
        "available": available,
    }


CASES = [
    ("CUSTOM_TWILIO", {"numbers": [number(["SMS"]), number(["VOICE"], selected=False)]}, {"SMS"}),
    ("CUSTOM_TWILIO", {"numbers": [number(["SMS", "VOICE"])]}, {"SMS", "VOICE"}),
    ("CUSTOM_TWILIO", {"numbers": [number(["SMS", "VOICE"], available=False)]}, set()),  # released number
    ("CUSTOM_TWILIO", {"numbers": []}, set()),
    (
        "CUSTOM_TWILIO_MESSAGING_SERVICE",
        {"messagingServices": [{"messagingServiceId": "MG1", "selected": True}]},
        {"SMS"},
    ),
    (
        "CUSTOM_TWILIO_MESSAGING_SERVICE",
        {"messagingServices": [{"messagingServiceId": "MG1", "selected": False}]},
        set(),
    ),
    ("CUSTOM_TWILIO_VERIFY", {"verifyServiceId": "VA" + "0" * 32}, {"SMS", "VOICE"}),
    ("CUSTOM_SYNIVERSE", {"numbers": [number(["SMS", "VOICE"])]}, {"SMS"}),  # the sender sends SMS only
    ("CUSTOM_SYNIVERSE", {"numbers": [number(["SMS"], selected=False)]}, set()),
    ("CUSTOM_SYNIVERSE_CHANNELS", {"channels": [{"id": "1", "selected": True, "capabilities": ["VOICE"]}]}, {"VOICE"}),
    ("CUSTOM_SYNIVERSE_CHANNELS", {"channels": [{"id": "1", "selected": False, "capabilities": ["SMS"]}]}, set()),
    ("CUSTOM_PROVIDER", {"requests": [{"deliveryMethod": "VOICE"}], "numbers": []}, {"VOICE"}),
    ("CUSTOM_PROVIDER", {"requests": [{"deliveryMethod": "SMS"}, {"deliveryMethod": "VOICE"}]}, {"SMS", "VOICE"}),
]


@pytest.mark.parametrize(("provider", "config", "expected"), CASES)
def test_delivery_methods(provider: str, config: dict[str, Any], expected: set[str]) -> None:
    assert SENDER_KINDS[provider].delivery_methods(config) == frozenset(expected)


def test_every_kind_is_covered() -> None:
    assert {provider for provider, _, _ in CASES} == set(SENDER_KINDS)
