"""Attacks on notificationsPolicies: another tenant's senders and policies, hostile names and sizes,
malformed shapes, and races on the name, the default flag and the senders a chain names. Never a 500."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import Stack
from tests.integration.test_notification_policies import body, check, create, listed, policies_path
from tests.security.tenants import messaging_service_sender, new_tenant
from tests.support import Api, SandboxAdmin, assert_pingone_error, detail


def test_another_tenants_sender_cannot_be_in_a_chain(stack: Stack, admin_api: Api, sandbox: SandboxAdmin) -> None:
    mine, theirs = new_tenant(stack, admin_api, "mine"), new_tenant(stack, admin_api, "theirs")
    their_sender, _ = messaging_service_sender(theirs.api, theirs.environment_id, sandbox)
    conditions = [{"fallbackChain": [{"id": their_sender}]}]
    refused = mine.api.post(
        policies_path(mine.environment_id), json=body(providerConfiguration={"conditions": conditions})
    )
    error = assert_pingone_error(refused, 400, "INVALID_DATA")
    assert detail(error, "INVALID_VALUE", "providerConfiguration.conditions[0].fallbackChain[0].id")
    assert their_sender not in refused.text
    # nor by replacing an existing policy
    policy = create(mine.api, mine.environment_id, name="mine")
    replaced = mine.api.put(
        policies_path(mine.environment_id, policy["id"]),
        json=body("mine", providerConfiguration={"conditions": conditions}),
    )
    assert_pingone_error(replaced, 400, "INVALID_DATA")
    assert "providerConfiguration" not in mine.api.get(policies_path(mine.environment_id, policy["id"])).json()


def test_a_tenant_reaches_no_policy_of_another(stack: Stack, admin_api: Api) -> None:
    mine, theirs = new_tenant(stack, admin_api, "mine"), new_tenant(stack, admin_api, "theirs")
    theirs_policy = create(theirs.api, theirs.environment_id, name="secret policy")
    own_path = policies_path(theirs.environment_id, theirs_policy["id"])
    for response in (
        mine.api.get(policies_path(theirs.environment_id)),
        mine.api.get(own_path),
        mine.api.put(own_path, json=body("taken over")),
        mine.api.delete(own_path),
        mine.api.post(policies_path(theirs.environment_id), json=body("planted")),
    ):
        assert_pingone_error(response, 403, "ACCESS_FAILED")
    # their policy id under my environment is simply not found
    crossed = policies_path(mine.environment_id, theirs_policy["id"])
    for response in (mine.api.get(crossed), mine.api.put(crossed, json=body("x")), mine.api.delete(crossed)):
        assert_pingone_error(response, 404, "NOT_FOUND")
    assert theirs.api.get(own_path).json()["name"] == "secret policy"
    assert len(listed(theirs.api, theirs.environment_id)) == 2


def test_non_ascii_names_round_trip(admin_api: Api, env: str) -> None:
    name = "Politique für Übersee 日本 🚀 ‮rtl"
    created = create(admin_api, env, name=name)
    assert created["name"] == name
    assert admin_api.get(policies_path(env, created["id"])).json()["name"] == name


@pytest.mark.parametrize(
    ("changes", "code", "target"),
    [
        ({"name": "x" * 100_000}, "SIZE_LIMIT_EXCEEDED", "name"),
        (
            {"countryLimit": {"type": "ALLOWED", "countries": ["US"] * 301}},
            "SIZE_LIMIT_EXCEEDED",
            "countryLimit.countries",
        ),
        (
            {"providerConfiguration": {"conditions": [{"fallbackChain": [{"id": "PINGONE_TWILIO"}]}] * 51}},
            "SIZE_LIMIT_EXCEEDED",
            "providerConfiguration.conditions",
        ),
        (
            {"providerConfiguration": {"conditions": [{"fallbackChain": [{"id": "x" * 65}]}]}},
            "SIZE_LIMIT_EXCEEDED",
            "providerConfiguration.conditions[0].fallbackChain[0].id",
        ),
        (
            {
                "providerConfiguration": {
                    "conditions": [
                        {"countries": ["de"], "fallbackChain": [{"id": "PINGONE_TWILIO"}]},
                        {"fallbackChain": [{"id": "PINGONE_TWILIO"}]},
                    ]
                }
            },
            "INVALID_VALUE",
            "providerConfiguration.conditions[0].countries[0]",
        ),
        ({"countryLimit": {"type": "ALLOWED", "countries": ["Ü1"]}}, "INVALID_VALUE", "countryLimit.countries[0]"),
        ({"countryLimit": {"type": "ALLOWED", "countries": ["D\u0415"]}}, "INVALID_VALUE", "countryLimit.countries[0]"),
        ({"quotas": [{"type": "USER", "deliveryMethods": ["SMS"], "total": 2**63}]}, "OUT_OF_RANGE", "quotas[0].total"),
        ({"quotas": [{"type": "USER", "deliveryMethods": ["SMS"], "total": -1}]}, "OUT_OF_RANGE", "quotas[0].total"),
        ({"quotas": [{"type": "USER", "deliveryMethods": ["SMS"], "total": 1.5}]}, "INVALID_VALUE", "quotas[0].total"),
        ({"quotas": "all of them"}, "INVALID_VALUE", "quotas"),
        ({"countryLimit": ["ALLOWED"]}, "INVALID_VALUE", "countryLimit"),
        ({"cooldownConfiguration": None, "providerConfiguration": {"conditions": None}}, "INVALID_VALUE", None),
    ],
)
def test_hostile_values_get_pingone_errors(
    admin_api: Api, env: str, changes: dict[str, Any], code: str, target: str | None
) -> None:
    response = admin_api.post(policies_path(env), json={**body(), **changes})
    error = assert_pingone_error(response, 400, "INVALID_DATA")
    if target is not None:
        detail(error, code, target)
    assert len(listed(admin_api, env)) == 1


@pytest.mark.parametrize(
    "raw", [b"[]", b'"policy"', b"{", b"null", b'{"name": "x", "quotas": [' + b"[" * 5000 + b"]" * 5000 + b"]}"]
)
def test_malformed_bodies_are_400(admin_api: Api, env: str, raw: bytes) -> None:
    response = admin_api.post(policies_path(env), content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] in ("INVALID_REQUEST", "INVALID_DATA")


def test_concurrent_creates_of_one_name_make_one_policy(admin_api: Api, env: str) -> None:
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda _: admin_api.post(policies_path(env), json=body("Race")), range(16)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * 15, [r.text for r in responses if r.status_code not in (201, 400)]
    for refused in (r for r in responses if r.status_code == 400):
        detail(refused.json(), "UNIQUENESS_VIOLATION", "name")
    assert [p["name"] for p in listed(admin_api, env)].count("Race") == 1


def test_concurrent_default_changes_leave_exactly_one_default(admin_api: Api, env: str) -> None:
    policies = [create(admin_api, env, name=f"candidate {i}") for i in range(8)]

    def make_default(policy: dict[str, Any]) -> int:
        return admin_api.put(policies_path(env, policy["id"]), json=body(policy["name"], default=True)).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(make_default, policies)) == [200] * 8
    final = listed(admin_api, env)
    assert sum(p["default"] for p in final) == 1
    for item in final:
        check(item)


def test_a_sender_deleted_while_a_policy_names_it(admin_api: Api, sandbox: SandboxAdmin) -> None:
    """A policy naming a sender and the sender's delete, at once: never both."""
    for _ in range(4):
        env = admin_api.new_environment(f"race-{uuid.uuid4().hex[:6]}")
        sender, _ = messaging_service_sender(admin_api, env, sandbox)
        policy_body = body("Names it", providerConfiguration={"conditions": [{"fallbackChain": [{"id": sender}]}]})
        with ThreadPoolExecutor(2) as pool:
            made = pool.submit(admin_api.post, policies_path(env), json=policy_body)
            gone = pool.submit(admin_api.delete, admin_api.senders_path(env, sender))
            created, deleted = made.result(), gone.result()
        assert (created.status_code, deleted.status_code) in ((201, 400), (400, 204)), (created.text, deleted.text)
        sender_exists = admin_api.get(admin_api.senders_path(env, sender)).status_code == 200
        named = any("providerConfiguration" in p for p in listed(admin_api, env))
        assert sender_exists == named


@pytest.mark.parametrize(
    "policy",
    [
        {"id": "x" * 65},
        {"id": ""},
        {"id": 5},
        "default",
        {"id": "'; DROP TABLE notification_policies; --"},
        {"id": "ü" * 10},
    ],
)
def test_hostile_policy_ids_on_send(admin_api: Api, env: str, policy: Any) -> None:
    response = admin_api.post(
        f"/v1/environments/{env}/notifications",
        json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "m", "policy": policy},
    )
    error = assert_pingone_error(response, 400, "INVALID_DATA")
    assert all(d.get("target", "").startswith("policy") for d in error["details"]), error
    assert admin_api.get(f"/v1/environments/{env}/notifications").json()["_embedded"]["notifications"] == []
    assert len(listed(admin_api, env)) == 1


def test_a_tenant_cannot_send_under_another_tenants_policy(stack: Stack, admin_api: Api) -> None:
    mine, theirs = new_tenant(stack, admin_api, "mine"), new_tenant(stack, admin_api, "theirs")
    their_policy = create(theirs.api, theirs.environment_id, name="theirs")
    response = mine.api.post(
        f"/v1/environments/{mine.environment_id}/notifications",
        json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "m", "policy": {"id": their_policy["id"]}},
    )
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "policy.id")


def test_a_kept_policy_stays_its_tenants_and_goes_with_its_deletion(stack: Stack, admin_api: Api) -> None:
    """On PostgreSQL a process keeps a send's context, keyed by environment and policy: the owner's
    sends under its policy are kept, and still another tenant cannot send under it; once deleted,
    the very next send under it is refused (and nothing is queued), on both databases."""
    mine, theirs = new_tenant(stack, admin_api, "mine"), new_tenant(stack, admin_api, "theirs")
    their_policy = create(theirs.api, theirs.environment_id, name="theirs")
    under_it = {"deliveryMethod": "SMS", "to": "+14155552671", "message": "m", "policy": {"id": their_policy["id"]}}
    for _ in range(3):  # the owner's sends under the policy: its context is kept from the second on
        accepted = theirs.api.post(f"/v1/environments/{theirs.environment_id}/notifications", json=under_it)
        assert accepted.status_code == 202, accepted.text
    response = mine.api.post(f"/v1/environments/{mine.environment_id}/notifications", json=under_it)
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "policy.id")
    assert (
        mine.api.get(f"/v1/environments/{mine.environment_id}/notifications").json()["_embedded"]["notifications"] == []
    )
    gone = theirs.api.delete(policies_path(theirs.environment_id, their_policy["id"]))
    assert gone.status_code == 204, gone.text
    response = theirs.api.post(f"/v1/environments/{theirs.environment_id}/notifications", json=under_it)
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "policy.id")


@pytest.mark.parametrize("user_id", ["a\x00b", "line\r\nbreak", "tab\there", "esc\x1b[31m", "del\x7f"])
def test_control_characters_in_a_user_id_are_refused(admin_api: Api, env: str, user_id: str) -> None:
    """A user id names a quota's and a cooldown's counter: control characters (a NUL cannot even be
    stored in PostgreSQL text) get a 400 on user.id, on the send and on the usage read, never a 500
    and never a counter of another user."""
    quota = [{"type": "USER", "deliveryMethods": ["SMS"], "total": 5}]
    default = next(p for p in listed(admin_api, env) if p["default"])
    admin_api.put(policies_path(env, default["id"]), json=body(default["name"], quotas=quota))
    to = f"+1415555{uuid.uuid4().int % 10000:04d}"
    sent = admin_api.post(
        f"/v1/environments/{env}/notifications",
        json={"deliveryMethod": "SMS", "to": to, "message": "m", "user": {"id": user_id}},
    )
    assert detail(assert_pingone_error(sent, 400, "INVALID_DATA"), "INVALID_VALUE", "user.id")
    assert (
        admin_api.get(f"/v1/environments/{env}/notifications", params={"to": to}).json()["_embedded"]["notifications"]
        == []
    )
    usage = admin_api.get(policies_path(env, default["id"]) + "/usage", params={"user.id": user_id})
    assert detail(assert_pingone_error(usage, 400, "INVALID_DATA"), "INVALID_VALUE", "user.id")


@pytest.mark.parametrize("user_id", ["ünïcödé-😀", "quote'\"back\\slash", "x" * 128, "a:b:c"])
def test_unusual_user_ids_are_counted_as_written(admin_api: Api, env: str, user_id: str) -> None:
    """The counters' keys go to the database as one JSON (SQLite) or array (PostgreSQL) parameter:
    a user id of any printable characters is counted under itself, and nobody else's count moves."""
    quota = [{"type": "USER", "deliveryMethods": ["SMS"], "total": 1}]
    default = next(p for p in listed(admin_api, env) if p["default"])
    admin_api.put(policies_path(env, default["id"]), json=body(default["name"], quotas=quota))

    def send(user: str) -> int:
        to = f"+1415555{uuid.uuid4().int % 10000:04d}"
        payload = {"deliveryMethod": "SMS", "to": to, "message": "m", "user": {"id": user}}
        return int(admin_api.post(f"/v1/environments/{env}/notifications", json=payload).status_code)

    assert [send(user_id), send(user_id), send(user_id[:-1] or "other")] == [202, 429, 202]
    usage = admin_api.get(policies_path(env, default["id"]) + "/usage", params={"user.id": user_id}).json()
    assert usage["quotas"][0]["subject"] == {"user": {"id": user_id}, "used": 1, "remaining": 0}
