"""notificationsPolicies CRUD over real HTTP on both databases: PingOne's validation rules with their
exact error bodies, the default-policy rules, activities, Ping's response schema, and the refusal to
delete a sender that a policy's chain names."""

from __future__ import annotations

import copy
import functools
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

from tests.integration.test_delivery import messaging_sender
from tests.support import Api, SandboxAdmin, assert_pingone_error, detail

SPEC = Path(__file__).resolve().parents[3] / "shared" / "reference" / "pingone" / "openapi.yaml"
SMS_VOICE = ["SMS", "Voice"]


@functools.cache
def policy_validator() -> jsonschema.protocols.Validator:
    spec: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    registry = Registry().with_resource("urn:ping", Resource.opaque(spec))  # type: ignore[var-annotated]
    schema = {"$ref": "urn:ping#/components/schemas/NotificationsPolicy"}
    validator_cls = jsonschema.validators.validator_for({}, default=jsonschema.Draft202012Validator)
    return validator_cls(schema, registry=registry)  # type: ignore[call-arg]


def check(body: dict[str, Any]) -> dict[str, Any]:
    """The body validates against Ping's NotificationsPolicy schema; returns it."""
    if SPEC.exists():
        policy_validator().validate(copy.deepcopy(body))
    return body


def policies_path(env: str, policy_id: str | None = None) -> str:
    base = f"/v1/environments/{env}/notificationsPolicies"
    return f"{base}/{policy_id}" if policy_id else base


def body(name: str = "p", **extra: Any) -> dict[str, Any]:
    return {"name": name, "quotas": [{"type": "USER", "deliveryMethods": SMS_VOICE, "total": 30}], **extra}


def create(api: Api, env: str, **extra: Any) -> dict[str, Any]:
    response = api.post(policies_path(env), json=body(**extra))
    assert response.status_code == 201, response.text
    return check(response.json())


def listed(api: Api, env: str) -> list[dict[str, Any]]:
    response = api.get(policies_path(env))
    assert response.status_code == 200, response.text
    return list(response.json()["_embedded"]["notificationsPolicies"])


def activities(api: Api, env: str, action: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/environments/{env}/activities", params={"actionType": action})
    return list(response.json()["_embedded"]["activities"])


COOLDOWN_ON = {
    "enabled": True,
    "periods": [
        {"duration": 30, "timeUnit": "SECONDS"},
        {"duration": 120, "timeUnit": "SECONDS"},
        # Ping's OpenAPI file says 10 to 600 whatever the unit; PingOne takes 1 to 10 MINUTES
        # (docs/policies.md), but 1 to 9 MINUTES would not validate against Ping's schema here.
        {"duration": 10, "timeUnit": "MINUTES"},
    ],
    "groupBy": "USER_ID",
    "resendLimit": 5,
}
COOLDOWN_OFF = {"enabled": False}


def test_the_schema_check_can_fail() -> None:
    if not SPEC.exists():
        pytest.skip("Ping's OpenAPI file is not beside the repository")
    with pytest.raises(jsonschema.ValidationError):
        policy_validator().validate({"name": "x", "quotas": [{"type": "USER", "deliveryMethods": ["Fax"]}]})


def test_a_new_environment_has_one_default_policy(admin_api: Api, env: str) -> None:
    [policy] = listed(admin_api, env)
    check(policy)
    assert policy["default"] is True
    assert policy["name"] == "Default Notification Policy"
    assert policy["quotas"] == []
    assert policy["countryLimit"] == {"type": "NONE", "countries": []}
    assert admin_api.get(policies_path(env, policy["id"])).json() == policy


def test_create_read_update_with_every_field(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    sender, _ = messaging_sender(admin_api, env, sandbox)
    full = body(
        "Everything",
        countryLimit={"type": "ALLOWED", "deliveryMethods": ["SMS"], "countries": ["DE", "FR", "US"]},
        providerConfiguration={
            "conditions": [
                {"deliveryMethods": ["SMS"], "countries": ["DE"], "fallbackChain": [{"id": sender["id"]}]},
                {"fallbackChain": [{"id": "PINGONE_TWILIO"}]},
            ]
        },
        cooldownConfiguration={
            "sms": COOLDOWN_ON,
            "voice": COOLDOWN_OFF,
            "email": COOLDOWN_OFF,
            "whatsApp": COOLDOWN_OFF,
        },
    )
    response = admin_api.post(policies_path(env), json=full)
    assert response.status_code == 201, response.text
    created = check(response.json())
    assert created["default"] is False
    assert created["quotas"] == full["quotas"]
    assert created["countryLimit"] == full["countryLimit"]
    assert created["providerConfiguration"]["conditions"] == [
        {"deliveryMethods": ["SMS"], "countries": ["DE"], "fallbackChain": [{"id": sender["id"]}]},
        {"deliveryMethods": ["SMS", "VOICE"], "fallbackChain": [{"id": "PINGONE_TWILIO"}]},
    ]
    assert created["cooldownConfiguration"]["sms"] == COOLDOWN_ON
    assert created["_links"]["self"]["href"].endswith(policies_path(env, created["id"]))
    assert admin_api.get(policies_path(env, created["id"])).json() == created
    [activity] = activities(admin_api, env, "NOTIFICATION_POLICY.CREATED")
    assert activity["resources"][0]["id"] == created["id"]

    # PUT is a whole replacement; read-only fields sent back are ignored.
    replaced = admin_api.put(
        policies_path(env, created["id"]),
        json={**created, "name": "Renamed", "countryLimit": {"type": "DENIED", "countries": ["RU"]}},
    )
    assert replaced.status_code == 200, replaced.text
    updated = check(replaced.json())
    assert updated["name"] == "Renamed"
    assert updated["countryLimit"] == {"type": "DENIED", "deliveryMethods": SMS_VOICE, "countries": ["RU"]}
    assert updated["createdAt"] == created["createdAt"] and updated["updatedAt"] > created["updatedAt"]
    assert admin_api.get(policies_path(env, created["id"])).json() == updated
    assert len(activities(admin_api, env, "NOTIFICATION_POLICY.UPDATED")) == 1
    for item in listed(admin_api, env):
        check(item)


def test_claimed_and_unclaimed_instead_of_total(admin_api: Api, env: str) -> None:
    quotas = [
        {"type": "USER", "deliveryMethods": SMS_VOICE, "claimed": 35, "unclaimed": 45},
        {"type": "ENVIRONMENT", "deliveryMethods": ["Email"], "total": 25},
    ]
    created = create(admin_api, env, quotas=quotas)
    assert created["quotas"] == quotas


SENDER = "11111111-1111-4111-8111-111111111111"
PERIODS = [{"duration": 10, "timeUnit": "SECONDS"}] * 3


def cooldowns(**sms: Any) -> dict[str, Any]:
    return {"sms": {"enabled": True, **sms}, "voice": COOLDOWN_OFF, "email": COOLDOWN_OFF, "whatsApp": COOLDOWN_OFF}


# (body changes, detail code, target, message)
INVALID: list[tuple[dict[str, Any], str, str, str]] = [
    ({"name": ""}, "EMPTY_VALUE", "name", "name must not be empty."),
    ({"name": "   "}, "EMPTY_VALUE", "name", "name must not be empty."),
    ({"name": "a\x00b"}, "INVALID_VALUE", "name", "Text must not contain the NUL character."),
    ({"name": "a\x07b"}, "INVALID_VALUE", "name", "name must not contain control characters."),
    ({"name": "x" * 257}, "SIZE_LIMIT_EXCEEDED", "name", "name is longer than the maximum of 256."),
    ({"name": 5}, "INVALID_VALUE", "name", "name must be a string."),
    ({"quotas": None}, "INVALID_VALUE", "quotas", "quotas must be an array."),
    (
        {"quotas": [{"type": "USER", "deliveryMethods": SMS_VOICE, "total": 1}] * 3},
        "SIZE_LIMIT_EXCEEDED",
        "quotas",
        "At most two quotas: one for SMS and Voice, one for Email.",
    ),
    (
        {"quotas": [{"type": "GROUP", "deliveryMethods": SMS_VOICE, "total": 1}]},
        "INVALID_VALUE",
        "quotas[0].type",
        "quotas[0].type must be one of: USER, ENVIRONMENT.",
    ),
    (
        {"quotas": [{"type": "USER", "deliveryMethods": ["SMS", "VOICE"], "total": 1}]},
        "INVALID_VALUE",
        "quotas[0].deliveryMethods[1]",
        "quotas[0].deliveryMethods[1] must be one of: SMS, Voice, Email.",
    ),
    (
        {"quotas": [{"type": "USER", "deliveryMethods": [], "total": 1}]},
        "REQUIRED_VALUE",
        "quotas[0].deliveryMethods",
        "deliveryMethods needs at least one method.",
    ),
    (
        {"quotas": [{"type": "USER", "deliveryMethods": ["SMS", "Email"], "total": 1}]},
        "INVALID_VALUE",
        "quotas[0].deliveryMethods",
        "Email has a quota of its own: deliveryMethods is SMS and/or Voice, or Email.",
    ),
    (
        {
            "quotas": [
                {"type": "USER", "deliveryMethods": ["SMS"], "total": 1},
                {"type": "ENVIRONMENT", "deliveryMethods": ["Voice"], "total": 1},
            ]
        },
        "INVALID_VALUE",
        "quotas[1].deliveryMethods",
        "quotas[0] is already the SMS/Voice quota: at most one quota for SMS/Voice.",
    ),
    (
        {"quotas": [{"type": "USER", "deliveryMethods": SMS_VOICE}]},
        "REQUIRED_VALUE",
        "quotas[0].total",
        "A quota has a total, or claimed and unclaimed.",
    ),
    (
        {"quotas": [{"type": "USER", "deliveryMethods": SMS_VOICE, "claimed": 3}]},
        "REQUIRED_VALUE",
        "quotas[0].unclaimed",
        "claimed and unclaimed go together.",
    ),
    (
        {"quotas": [{"type": "USER", "deliveryMethods": SMS_VOICE, "total": 3, "claimed": 1, "unclaimed": 1}]},
        "INVALID_VALUE",
        "quotas[0].total",
        "Use either total, or claimed and unclaimed, not both.",
    ),
    (
        {"quotas": [{"type": "USER", "deliveryMethods": SMS_VOICE, "total": 0}]},
        "OUT_OF_RANGE",
        "quotas[0].total",
        "total must be between 1 and 2147483647.",
    ),
    (
        {"quotas": [{"type": "USER", "deliveryMethods": SMS_VOICE, "total": True}]},
        "INVALID_VALUE",
        "quotas[0].total",
        "quotas[0].total must be an integer.",
    ),
    (
        {"countryLimit": {"type": "ALLOWED"}},
        "REQUIRED_VALUE",
        "countryLimit.countries",
        "countries is required when type is ALLOWED.",
    ),
    (
        {"countryLimit": {"type": "DENIED", "countries": []}},
        "REQUIRED_VALUE",
        "countryLimit.countries",
        "countries is required when type is DENIED.",
    ),
    (
        {"countryLimit": {"type": "ALLOWED", "countries": ["de"]}},
        "INVALID_VALUE",
        "countryLimit.countries[0]",
        "Country codes are written in capitals (ISO 3166-1 alpha-2, such as DE).",
    ),
    (
        {"countryLimit": {"type": "ALLOWED", "countries": ["US", "XX"]}},
        "INVALID_VALUE",
        "countryLimit.countries[1]",
        "Not an ISO 3166-1 alpha-2 country code (such as DE).",
    ),
    (
        {"countryLimit": {"type": "ALLOWED", "countries": ["US", "US"]}},
        "INVALID_VALUE",
        "countryLimit.countries[1]",
        "A country appears twice.",
    ),
    (
        {"countryLimit": {"type": "NONE", "deliveryMethods": ["SMS"]}},
        "INVALID_VALUE",
        "countryLimit.deliveryMethods",
        "deliveryMethods applies only to an ALLOWED or DENIED limit.",
    ),
    (
        {"countryLimit": {"type": "ALLOWED", "deliveryMethods": ["Email"], "countries": ["US"]}},
        "INVALID_VALUE",
        "countryLimit.deliveryMethods[0]",
        "countryLimit.deliveryMethods[0] must be one of: SMS, Voice.",
    ),
    (
        {"countryLimit": {"type": "SOME", "countries": ["US"]}},
        "INVALID_VALUE",
        "countryLimit.type",
        "countryLimit.type must be one of: NONE, ALLOWED, DENIED.",
    ),
    (
        {"providerConfiguration": {"conditions": []}},
        "REQUIRED_VALUE",
        "providerConfiguration.conditions",
        "providerConfiguration.conditions needs at least 1.",
    ),
    (
        {"providerConfiguration": {"conditions": [{"countries": ["DE"], "fallbackChain": [{"id": "PINGONE_TWILIO"}]}]}},
        "INVALID_VALUE",
        "providerConfiguration.conditions[0].countries",
        "The last condition is the catch-all: it must not have countries.",
    ),
    (
        {"providerConfiguration": {"conditions": [{"fallbackChain": []}]}},
        "REQUIRED_VALUE",
        "providerConfiguration.conditions[0].fallbackChain",
        "providerConfiguration.conditions[0].fallbackChain needs at least 1.",
    ),
    (
        {"providerConfiguration": {"conditions": [{"fallbackChain": [{"id": SENDER}]}]}},
        "INVALID_VALUE",
        "providerConfiguration.conditions[0].fallbackChain[0].id",
        "Not a phone delivery settings id of this environment, nor PINGONE_TWILIO.",
    ),
    (
        {"providerConfiguration": {"conditions": [{"fallbackChain": [{"id": "PINGONE_TWILIO"}] * 2}]}},
        "INVALID_VALUE",
        "providerConfiguration.conditions[0].fallbackChain[1].id",
        "A sender appears twice in the chain.",
    ),
    (
        {
            "providerConfiguration": {
                "conditions": [{"deliveryMethods": ["Voice"], "fallbackChain": [{"id": "PINGONE_TWILIO"}]}]
            }
        },
        "INVALID_VALUE",
        "providerConfiguration.conditions[0].deliveryMethods[0]",
        "providerConfiguration.conditions[0].deliveryMethods[0] must be one of: SMS, VOICE.",
    ),
    (
        {"cooldownConfiguration": {"sms": COOLDOWN_OFF}},
        "REQUIRED_VALUE",
        "cooldownConfiguration.voice",
        "cooldownConfiguration.voice is required.",
    ),
    (
        {"cooldownConfiguration": cooldowns(resendLimit=3)},
        "REQUIRED_VALUE",
        "cooldownConfiguration.sms.periods",
        "periods is required when enabled is true.",
    ),
    (
        {"cooldownConfiguration": cooldowns(periods=PERIODS)},
        "REQUIRED_VALUE",
        "cooldownConfiguration.sms.resendLimit",
        "resendLimit is required when enabled is true.",
    ),
    (
        {"cooldownConfiguration": cooldowns(periods=PERIODS[:2], resendLimit=3)},
        "INVALID_VALUE",
        "cooldownConfiguration.sms.periods",
        "periods has exactly three entries: before the first, the second, and any later retry.",
    ),
    (
        {
            "cooldownConfiguration": cooldowns(
                periods=[PERIODS[0], PERIODS[1], {"duration": 9, "timeUnit": "SECONDS"}], resendLimit=3
            )
        },
        "OUT_OF_RANGE",
        "cooldownConfiguration.sms.periods[2].duration",
        "A duration in SECONDS must be between 10 and 600.",
    ),
    (
        {
            "cooldownConfiguration": cooldowns(
                periods=[{"duration": 11, "timeUnit": "MINUTES"}, *PERIODS[1:]], resendLimit=3
            )
        },
        "OUT_OF_RANGE",
        "cooldownConfiguration.sms.periods[0].duration",
        "A duration in MINUTES must be between 1 and 10.",
    ),
    (
        {
            "cooldownConfiguration": cooldowns(
                periods=[{"duration": 1, "timeUnit": "HOURS"}, *PERIODS[1:]], resendLimit=3
            )
        },
        "INVALID_VALUE",
        "cooldownConfiguration.sms.periods[0].timeUnit",
        "cooldownConfiguration.sms.periods[0].timeUnit must be one of: SECONDS, MINUTES.",
    ),
    (
        {"cooldownConfiguration": cooldowns(periods=PERIODS, resendLimit=11)},
        "OUT_OF_RANGE",
        "cooldownConfiguration.sms.resendLimit",
        "resendLimit must be between 1 and 10.",
    ),
    (
        {"cooldownConfiguration": cooldowns(periods=PERIODS, resendLimit=3, groupBy="PHONE")},
        "INVALID_VALUE",
        "cooldownConfiguration.sms.groupBy",
        "cooldownConfiguration.sms.groupBy must be one of: USER_ID.",
    ),
]


@pytest.mark.parametrize(("changes", "code", "target", "message"), INVALID, ids=[i[2] + ":" + i[1] for i in INVALID])
def test_invalid_policies_are_refused_with_pingone_errors(
    admin_api: Api, env: str, changes: dict[str, Any], code: str, target: str, message: str
) -> None:
    response = admin_api.post(policies_path(env), json={**body(), **changes})
    error = assert_pingone_error(response, 400, "INVALID_DATA")
    assert error["message"] == "The request could not be completed. One or more validation errors were in the request."
    assert detail(error, code, target)["message"] == message
    assert len(listed(admin_api, env)) == 1  # nothing created
    assert activities(admin_api, env, "NOTIFICATION_POLICY.CREATED") == []


def test_out_of_range_details_carry_the_range(admin_api: Api, env: str) -> None:
    response = admin_api.post(
        policies_path(env), json=body(cooldownConfiguration=cooldowns(periods=PERIODS, resendLimit=0))
    )
    error = assert_pingone_error(response, 400, "INVALID_DATA")
    found = detail(error, "OUT_OF_RANGE", "cooldownConfiguration.sms.resendLimit")
    assert found["innerError"] == {"rangeMinimumValue": 1, "rangeMaximumValue": 10}


def test_name_is_required_and_quotas_are_required(admin_api: Api, env: str) -> None:
    error = assert_pingone_error(admin_api.post(policies_path(env), json={}), 400, "INVALID_DATA")
    assert detail(error, "REQUIRED_VALUE", "name")["message"] == "name is required."
    assert detail(error, "REQUIRED_VALUE", "quotas")["message"] == "quotas is required."


def test_names_are_unique_in_an_environment(admin_api: Api, env: str) -> None:
    first = create(admin_api, env, name="Same")
    error = assert_pingone_error(admin_api.post(policies_path(env), json=body("Same")), 400, "INVALID_DATA")
    found = detail(error, "UNIQUENESS_VIOLATION", "name")
    assert found == {
        "code": "UNIQUENESS_VIOLATION",
        "target": "name",
        "message": "A resource with the specified name already exists.",
        "innerError": {"existingId": first["id"]},
    }
    other = create(admin_api, env, name="Other")
    renamed = admin_api.put(policies_path(env, other["id"]), json=body("Same"))
    detail(assert_pingone_error(renamed, 400, "INVALID_DATA"), "UNIQUENESS_VIOLATION", "name")
    assert admin_api.get(policies_path(env, other["id"])).json()["name"] == "Other"
    # the same name in another environment is fine
    elsewhere = admin_api.new_environment("elsewhere")
    create(admin_api, elsewhere, name="Same")


def test_making_another_policy_default_moves_the_flag(admin_api: Api, env: str) -> None:
    [original] = listed(admin_api, env)
    second = create(admin_api, env, name="Second", default=True)
    assert second["default"] is True
    flags = {p["id"]: p["default"] for p in listed(admin_api, env)}
    assert flags == {original["id"]: False, second["id"]: True}
    # by PUT as well
    moved = admin_api.put(policies_path(env, original["id"]), json=body(original["name"], default=True))
    assert moved.status_code == 200, moved.text
    assert {p["id"]: p["default"] for p in listed(admin_api, env)} == {original["id"]: True, second["id"]: False}


def test_the_default_stays_until_another_takes_over(admin_api: Api, env: str) -> None:
    [default] = listed(admin_api, env)
    refused = admin_api.put(policies_path(env, default["id"]), json=body("Default", default=False))
    error = assert_pingone_error(refused, 400, "INVALID_DATA")
    assert error["message"] == (
        "The default notification policy stays the default until another policy is made the default."
    )
    assert detail(error, "CONSTRAINT_VIOLATION", "default")["message"] == (
        "An environment always has one default policy: set default to true on another policy instead."
    )
    # default left out keeps the flag
    kept = admin_api.put(policies_path(env, default["id"]), json=body("Default renamed"))
    assert kept.status_code == 200 and kept.json()["default"] is True


def test_the_default_policy_cannot_be_deleted(admin_api: Api, env: str) -> None:
    [default] = listed(admin_api, env)
    error = assert_pingone_error(admin_api.delete(policies_path(env, default["id"])), 400, "INVALID_DATA")
    assert error["message"] == "The default notification policy cannot be deleted."
    assert detail(error, "CONSTRAINT_VIOLATION", "default")["message"] == (
        "Make another policy the default first; then this one can be deleted."
    )
    assert len(listed(admin_api, env)) == 1
    assert activities(admin_api, env, "NOTIFICATION_POLICY.DELETED") == []
    # once another is the default, the former one can go
    create(admin_api, env, name="New default", default=True)
    assert admin_api.delete(policies_path(env, default["id"])).status_code == 204


def test_delete(admin_api: Api, env: str) -> None:
    policy = create(admin_api, env, name="Short-lived")
    assert admin_api.delete(policies_path(env, policy["id"])).status_code == 204
    assert_pingone_error(admin_api.get(policies_path(env, policy["id"])), 404, "NOT_FOUND")
    assert_pingone_error(admin_api.delete(policies_path(env, policy["id"])), 404, "NOT_FOUND")
    [activity] = activities(admin_api, env, "NOTIFICATION_POLICY.DELETED")
    assert activity["resources"][0]["id"] == policy["id"]
    assert [p["name"] for p in listed(admin_api, env)] == ["Default Notification Policy"]


def test_unknown_ids_are_404(admin_api: Api, env: str) -> None:
    for path in (policies_path(env, str(uuid.uuid4())), policies_path(env, "not-a-uuid")):
        assert_pingone_error(admin_api.get(path), 404, "NOT_FOUND")
        assert_pingone_error(admin_api.put(path, json=body()), 404, "NOT_FOUND")
        assert_pingone_error(admin_api.delete(path), 404, "NOT_FOUND")
    missing = str(uuid.uuid4())
    assert_pingone_error(admin_api.get(policies_path(missing)), 404, "NOT_FOUND")
    assert_pingone_error(admin_api.post(policies_path(missing), json=body()), 404, "NOT_FOUND")


def test_a_sender_named_by_a_policy_cannot_be_deleted(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    sender, _ = messaging_sender(admin_api, env, sandbox)
    conditions = [
        {"countries": ["DE"], "fallbackChain": [{"id": "PINGONE_TWILIO"}, {"id": sender["id"]}]},
        {"fallbackChain": [{"id": sender["id"]}]},
    ]
    policy = create(admin_api, env, name="Routes", providerConfiguration={"conditions": conditions})
    refused = admin_api.delete(admin_api.senders_path(env, sender["id"]))
    error = assert_pingone_error(refused, 400, "INVALID_DATA")
    assert error["message"] == "The sender is in use and cannot be deleted."
    assert [d["message"] for d in error["details"]] == [
        "providerConfiguration.conditions[0].fallbackChain[1].id of the notification policy 'Routes' refers to "
        "this sender; remove it from the policy's chain first.",
        "providerConfiguration.conditions[1].fallbackChain[0].id of the notification policy 'Routes' refers to "
        "this sender; remove it from the policy's chain first.",
    ]
    assert error["details"][0]["innerError"] == {"referencedValues": ["Routes"]}
    assert admin_api.get(admin_api.senders_path(env, sender["id"])).status_code == 200
    # once the policy no longer names it, it can go
    freed = admin_api.put(
        policies_path(env, policy["id"]),
        json=body("Routes", providerConfiguration={"conditions": [{"fallbackChain": [{"id": "PINGONE_TWILIO"}]}]}),
    )
    assert freed.status_code == 200, freed.text
    assert admin_api.delete(admin_api.senders_path(env, sender["id"])).status_code == 204


def test_environment_delete_takes_its_policies(admin_api: Api) -> None:
    env = admin_api.new_environment("short")
    create(admin_api, env, name="Gone with it")
    assert admin_api.delete(f"/v1/environments/{env}").status_code == 204
    assert_pingone_error(admin_api.get(policies_path(env)), 404, "NOT_FOUND")
