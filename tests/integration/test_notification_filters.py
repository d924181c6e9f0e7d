"""The delivery log's filters: recipient, sender (PINGONE_TWILIO too) and delivery method, with status
and time, on both databases; and each bad value a PingOne error on its parameter."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.test_delivery import chain, messaging_sender, send, unique_number
from tests.support import Api, SandboxAdmin, assert_pingone_error, detail, wait_final


def listed(api: Api, env: str, **params: str) -> list[dict[str, Any]]:
    answer = api.get(f"/v1/environments/{env}/notifications", params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["_embedded"]["notifications"])


def test_filters_by_recipient_sender_and_method(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    alice, bob = unique_number(), unique_number()
    by_platform = [wait_final(admin_api, env, send(admin_api, env, to=alice).json()["id"])["id"] for _ in range(2)]
    voice = wait_final(admin_api, env, send(admin_api, env, to=alice, method="VOICE").json()["id"])["id"]
    sender, _ = messaging_sender(admin_api, env, sandbox)
    chain(admin_api, env, sender["id"])
    by_service = wait_final(admin_api, env, send(admin_api, env, to=bob).json()["id"])["id"]

    assert [n["id"] for n in listed(admin_api, env, to=alice)] == [voice, *reversed(by_platform)]
    assert [n["id"] for n in listed(admin_api, env, to=alice, deliveryMethod="SMS")] == list(reversed(by_platform))
    assert [n["id"] for n in listed(admin_api, env, deliveryMethod="VOICE")] == [voice]
    assert [n["id"] for n in listed(admin_api, env, sender=sender["id"])] == [by_service]
    platform = {n["id"] for n in listed(admin_api, env, sender="PINGONE_TWILIO")}
    assert platform == {*by_platform, voice}
    assert listed(admin_api, env, to=bob, sender="PINGONE_TWILIO") == []
    # The filter takes a number as it is written elsewhere too (it is normalised like a send's).
    assert [n["id"] for n in listed(admin_api, env, to=bob.replace("+1", "+1 "))] == [by_service]
    # Combined with status and paging: one per page, the filter kept on the next link.
    first = admin_api.get(f"/v1/environments/{env}/notifications", params={"to": alice, "limit": "1"}).json()
    second = admin_api.get(first["_links"]["next"]["href"].removeprefix(admin_api.base)).json()
    assert [n["id"] for n in second["_embedded"]["notifications"]] == [by_platform[1]]
    assert listed(admin_api, env, to=alice, status="QUEUED") == []


@pytest.mark.parametrize(
    ("params", "code", "target"),
    [
        ({"to": "not a number"}, "INVALID_VALUE", "to"),
        ({"to": "+1415\r\n5550100"}, "INVALID_VALUE", "to"),
        ({"to": "+" + "5" * 500}, "INVALID_VALUE", "to"),
        ({"sender": "'; DROP TABLE notifications; --"}, "INVALID_PARAMETER", "sender"),
        ({"sender": "PINGONE_TWILIO\u0000"}, "INVALID_PARAMETER", "sender"),
        ({"deliveryMethod": "EMAIL"}, "INVALID_PARAMETER", "deliveryMethod"),
        ({"deliveryMethod": "sms"}, "INVALID_PARAMETER", "deliveryMethod"),
    ],
)
def test_bad_filters_are_pingone_errors(
    admin_api: Api, env: str, params: dict[str, str], code: str, target: str
) -> None:
    answer = admin_api.get(f"/v1/environments/{env}/notifications", params=params)
    detail(assert_pingone_error(answer, 400, "INVALID_DATA"), code, target)


def test_another_tenants_sender_finds_nothing(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    other = admin_api.new_environment("other tenant")
    sender, _ = messaging_sender(admin_api, other, sandbox)
    chain(admin_api, other, sender["id"])
    wait_final(admin_api, other, send(admin_api, other, to=unique_number()).json()["id"])
    assert listed(admin_api, env, sender=sender["id"]) == []
    assert len(listed(admin_api, other, sender=sender["id"])) == 1


def test_attempts_name_their_sender_while_it_exists(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    sender, _ = messaging_sender(admin_api, env, sandbox)
    chain(admin_api, env, sender["id"])
    done = wait_final(admin_api, env, send(admin_api, env, to=unique_number()).json()["id"])
    assert done["attempts"][0]["sender"] == {"id": sender["id"], "name": sender["name"]}
    chain(admin_api, env)  # back to PINGONE_TWILIO, so that the sender may go
    assert admin_api.delete(admin_api.senders_path(env, sender["id"])).status_code == 204
    after = admin_api.get(f"/v1/environments/{env}/notifications/{done['id']}").json()
    assert after["attempts"][0]["sender"] == {"id": sender["id"]}  # the id stays; the name went with it
