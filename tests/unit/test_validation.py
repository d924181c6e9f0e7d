from __future__ import annotations

from typing import Any

import pytest

from phone_delivery.domain.errors import InvalidData
from phone_delivery.domain.models import Sender
from phone_delivery.domain.ports import AccountInventory, MessagingServiceInfo
from phone_delivery.domain.sender_kinds import TwilioMessagingServiceKind
from phone_delivery.domain.validation import target_of

SID = "AC" + "0" * 32
MG1, MG2 = "MG" + "1" * 32, "MG" + "2" * 32
KIND = TwilioMessagingServiceKind()


def codes(exc: InvalidData) -> set[tuple[str, str | None]]:
    return {(d.code, d.target) for d in exc.details}


def test_target_paths() -> None:
    assert target_of(("messagingServices", 2, "selected")) == "messagingServices[2].selected"
    assert target_of(("name",)) == "name"
    assert target_of(()) == ""


def test_create_collects_every_problem() -> None:
    with pytest.raises(InvalidData) as info:
        KIND.parse_create({"provider": "CUSTOM_TWILIO_MESSAGING_SERVICE", "sid": "AC123", "name": 3})
    assert codes(info.value) == {("INVALID_VALUE", "sid"), ("INVALID_VALUE", "name"), ("REQUIRED_VALUE", "authToken")}


def test_strict_types_no_coercion() -> None:
    body: dict[str, Any] = {
        "provider": KIND.provider,
        "sid": SID,
        "authToken": "t",
        "name": "n",
        "messagingServices": [{"messagingServiceId": MG1, "selected": "true"}],
    }
    with pytest.raises(InvalidData) as info:
        KIND.parse_replace(body)
    assert codes(info.value) == {("INVALID_VALUE", "messagingServices[0].selected")}


def existing() -> Sender:
    return Sender(
        id="s",
        environment_id="e",
        provider=KIND.provider,
        name="n",
        config={"sid": SID},
        secrets={"authToken": "t"},
        created_at=1,
        updated_at=1,
    )


def test_replace_keeps_live_services_and_one_selection() -> None:
    draft = KIND.parse_replace(
        {
            "provider": KIND.provider,
            "sid": SID,
            "authToken": "t",
            "name": "n",
            "messagingServices": [{"messagingServiceId": MG2, "selected": True}],
        }
    )
    KIND.check_replace(existing(), draft)
    inventory = AccountInventory([MessagingServiceInfo(MG1, "one"), MessagingServiceInfo(MG2, "two")])
    config = KIND.build_config(draft, inventory, existing())
    assert config["messagingServices"] == [
        {"messagingServiceId": MG1, "name": "one", "selected": False},
        {"messagingServiceId": MG2, "name": "two", "selected": True},
    ]


def test_immutable_fields() -> None:
    draft = KIND.parse_replace(
        {
            "provider": KIND.provider,
            "sid": "AC" + "9" * 32,
            "authToken": "zz-new-token",
            "name": "n",
            "messagingServices": [],
        }
    )
    with pytest.raises(InvalidData) as info:
        KIND.check_replace(existing(), draft)
    assert codes(info.value) == {("INVALID_VALUE", "sid"), ("INVALID_VALUE", "authToken")}
    assert "zz-new-token" not in str([d.message for d in info.value.details])


def test_ids_in_paths_must_be_canonical_uuids() -> None:
    import uuid

    from phone_delivery.api.deps import is_uuid

    value = str(uuid.uuid4())
    assert is_uuid(value) and is_uuid(value.upper())
    for bad in (value + "\n", value.replace("-", ""), "{" + value + "}", "urn:uuid:" + value, value[:-1], "", "x" * 36):
        assert not is_uuid(bad), bad
