"""``senders apply``'s decisions and the sender file rules, without a server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from phone_delivery.client import policy_files, sender_apply, sender_files
from phone_delivery.client.errors import ClientError, NotFoundLocally, UsageError
from phone_delivery.client.lookup import pick

MS = [
    {"messagingServiceId": "MG" + "1" * 32, "name": "OTP", "selected": True},
    {"messagingServiceId": "MG" + "2" * 32, "name": "Alerts", "selected": False},
]


def stored(**fields: Any) -> dict[str, Any]:
    return {
        "_links": {},
        "id": "s1",
        "environment": {"id": "e1"},
        "createdAt": "t",
        "updatedAt": "t",
        "name": "S",
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
        "sid": "AC" + "0" * 32,
        "messagingServices": MS,
        **fields,
    }


def desired(**fields: Any) -> dict[str, Any]:
    return {
        "name": "S",
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
        "sid": "AC" + "0" * 32,
        "authToken": "t",
        **fields,
    }


def test_same_selection_by_name_or_id_is_unchanged() -> None:
    assert sender_apply.plan(stored(), desired(messagingServices=[{"name": "OTP", "selected": True}])).action == (
        "unchanged"
    )
    by_id = [{"messagingServiceId": MS[0]["messagingServiceId"], "selected": True}]
    assert sender_apply.plan(stored(), desired(messagingServices=by_id)).action == "unchanged"
    assert sender_apply.plan(stored(), desired()).action == "unchanged"  # selection not managed: kept


def test_a_different_selection_is_one_put_with_the_secret() -> None:
    step = sender_apply.plan(stored(), desired(messagingServices=[{"name": "Alerts", "selected": True}]))
    assert step.action == "update" and step.changed == ["messagingServices"]
    assert step.body is not None and step.body["authToken"] == "t"
    assert [s["selected"] for s in step.body["messagingServices"]] == [False, True]
    assert "id" not in step.body and "_links" not in step.body


def test_force_sends_the_secrets_and_says_so() -> None:
    step = sender_apply.plan(stored(), desired(), force=True)
    assert step.action == "update" and step.changed == ["authToken (--force)"]


def test_unknown_service_name_is_refused_and_unknown_id_goes_to_the_server() -> None:
    with pytest.raises(UsageError, match="no Messaging Service named 'Nope'"):
        sender_apply.plan(stored(), desired(messagingServices=[{"name": "Nope", "selected": True}]))
    unknown = "MG" + "9" * 32
    step = sender_apply.plan(stored(), desired(messagingServices=[{"messagingServiceId": unknown, "selected": True}]))
    assert step.body is not None and step.body["messagingServices"][-1] == {
        "messagingServiceId": unknown,
        "selected": True,
    }


def test_provider_cannot_change() -> None:
    with pytest.raises(ClientError, match="cannot change"):
        sender_apply.plan(stored(), {**desired(), "provider": "CUSTOM_TWILIO_VERIFY"})


def test_create_leaves_the_second_step_for_later() -> None:
    step = sender_apply.plan(None, desired(messagingServices=[{"name": "OTP", "selected": True}]))
    assert step.action == "create" and step.body is not None and "messagingServices" not in step.body


def test_custom_provider_defaults_compare_equal() -> None:
    request = {"deliveryMethod": "SMS", "method": "GET", "url": "https://gw/?to=${to}&m=${message}"}
    number = {"number": "+15005550006", "type": "PHONE_NUMBER", "capabilities": ["SMS"]}
    current = {
        "id": "c1",
        "name": "G",
        "provider": "CUSTOM_PROVIDER",
        "authentication": {"method": "BASIC", "username": "u"},
        "requests": [{**request, "phoneNumberFormat": "FULL"}],
        "numbers": [{**number, "selected": False, "available": False}],
    }
    wanted = {
        "name": "G",
        "provider": "CUSTOM_PROVIDER",
        "authentication": {"method": "BASIC", "username": "u", "password": "p"},
        "requests": [request],
        "numbers": [number],
    }
    assert sender_apply.plan(current, wanted).action == "unchanged"
    changed = {**wanted, "authentication": {"method": "BASIC", "username": "v", "password": "p"}}
    step = sender_apply.plan(current, changed)
    assert step.changed == ["authentication"]
    assert step.body is not None and step.body["authentication"] == {
        "method": "BASIC",
        "username": "v",
        "password": "p",
    }


def test_account_numbers_unlisted_are_deselected() -> None:
    numbers = [
        {"number": "+1", "type": "PHONE_NUMBER", "selected": True, "available": True, "capabilities": ["SMS"]},
        {"number": "+2", "type": "TOLL_FREE", "selected": False, "available": True, "supportedCountries": ["US"]},
    ]
    current = {"id": "n", "name": "N", "provider": "CUSTOM_TWILIO", "sid": "AC", "numbers": numbers}
    wanted = {
        "name": "N",
        "provider": "CUSTOM_TWILIO",
        "sid": "AC",
        "authToken": "t",
        "numbers": [{"number": "+2", "selected": True}],
    }
    step = sender_apply.plan(current, wanted)
    assert step.body is not None
    assert [(n["number"], n["selected"], n.get("supportedCountries")) for n in step.body["numbers"]] == [
        ("+1", False, None),
        ("+2", True, None),
    ]


def test_files_expand_variables_but_not_request_templates(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: G\nprovider: CUSTOM_PROVIDER\nauthentication: {method: BEARER, authToken: '${TOKEN}x$${LIT}'}\n"
        "requests:\n  - {deliveryMethod: SMS, method: GET, url: 'https://gw/?to=${to}&m=${message}'}\n"
        "---\nname: H\nprovider: CUSTOM_TWILIO_VERIFY\nsid: AC\nauthToken: '${TOKEN}'\nverifyServiceId: VA\n"
    )
    first, second = sender_files.load(path, {"TOKEN": "abc", "to": "WRONG"})
    assert first["authentication"]["authToken"] == "abcx${LIT}"
    assert first["requests"][0]["url"] == "https://gw/?to=${to}&m=${message}"
    assert second["authToken"] == "abc"
    with pytest.raises(UsageError, match="not set: TOKEN"):
        sender_files.load(path, {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: X\nprovider: CUSTOM_PROVIDER\nauthentication: {method: BASIC, username: u, clientId: c}\n", "clientId"),
        ("name: X\nprovider: CUSTOM_TWILIO\nnumbers: [{number: '+1', selcted: true}]\n", "did you mean selected"),
        ("name: X\nprovider: CUSTOM_TWILIO\nauthToken: '${bad name}'\n", "not an environment variable name"),
        ("[]\n", "holds no sender"),
        ("just text\n", "not a mapping"),
    ],
)
def test_files_refuse_what_the_api_would_ignore(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        sender_files.load(path, {})
    assert message in caught.value.message + " ".join(d.message for d in caught.value.details)


def test_pick_prefers_ids_and_refuses_to_guess() -> None:
    items = [{"id": "a", "name": "b"}, {"id": "b", "name": "c"}, {"id": "d", "name": "c"}]
    assert pick(items[:1], "a", "sender")["id"] == "a"
    assert pick(items[:1], "b", "sender")["id"] == "a"
    with pytest.raises(UsageError, match="the id of one sender and the name of another"):
        pick(items, "b", "sender")
    with pytest.raises(UsageError, match="2 senders are named 'c'"):
        pick(items, "c", "sender")
    with pytest.raises(NotFoundLocally):
        pick(items, "zzz", "sender")


def stored_policy(**rules: Any) -> dict[str, Any]:
    """A policy as the server answers it: every default filled in."""
    return {
        "id": "p1",
        "name": "P",
        "default": False,
        "quotas": [],
        "countryLimit": {"type": "NONE", "countries": []},
        "cooldownConfiguration": {m: {"enabled": False} for m in ("sms", "voice", "email", "whatsApp")},
        "createdAt": "t",
        "updatedAt": "t",
        **rules,
    }


def test_a_policy_file_with_the_servers_defaults_left_out_is_unchanged() -> None:
    current = stored_policy(
        countryLimit={"type": "ALLOWED", "deliveryMethods": ["SMS", "Voice"], "countries": ["DE"]},
        providerConfiguration={"conditions": [{"deliveryMethods": ["SMS", "VOICE"], "fallbackChain": [{"id": "s"}]}]},
        fraudProtection={"numberTypes": {"enabled": True, "refused": ["PREMIUM_RATE", "SHARED_COST", "UNKNOWN"]}},
    )
    wanted = {
        "name": "P",
        "quotas": [],
        "countryLimit": {"countries": ["DE"], "type": "ALLOWED"},
        "providerConfiguration": {"conditions": [{"fallbackChain": [{"id": "s"}]}]},
        "fraudProtection": {"numberTypes": {"enabled": True}},
    }
    assert policy_files.plan(current, wanted).action == "unchanged"
    assert policy_files.plan(current, {**wanted, "default": False}).action == "unchanged"
    assert policy_files.plan(current, {**wanted, "default": True}).changed == ["default"]


def test_a_policy_rule_left_out_is_a_change_back_to_its_default() -> None:
    """A PUT replaces the policy: dropping a rule (or a field of one) the server has is a change."""
    current = stored_policy(
        countryLimit={"type": "ALLOWED", "deliveryMethods": ["SMS"], "countries": ["DE"]},
        cooldownConfiguration={"sms": {"enabled": True}, "voice": {"enabled": False}},
        fraudProtection={"numberHourlyCap": {"enabled": True, "limit": 3}},
    )
    wanted = {"name": "P", "quotas": [], "countryLimit": {"type": "ALLOWED", "countries": ["DE"]}}
    assert policy_files.plan(current, wanted).changed == ["countryLimit", "cooldownConfiguration", "fraudProtection"]
    assert policy_files.plan(None, wanted).action == "create"
