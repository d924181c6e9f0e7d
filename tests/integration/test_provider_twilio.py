"""CUSTOM_TWILIO and CUSTOM_TWILIO_VERIFY: accounts read live from the sandbox over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, SandboxAdmin, assert_pingone_error, detail

NUMBERS = [
    {"phoneNumber": "+15005550006", "sms": True, "voice": True},
    {"phoneNumber": "+15005550007", "sms": True, "voice": False},
    {"phoneNumber": "+18005550100", "sms": True, "voice": True},
]


@pytest.fixture
def twilio_account(sandbox: SandboxAdmin) -> dict[str, Any]:
    response = sandbox.http.post(
        "/_admin/accounts",
        json={
            "numbers": NUMBERS,
            "shortCodes": ["55501"],
            "verifyServices": ["OTP"],
            "verifyTemplates": [{"friendlyName": "Login code", "channels": ["sms", "voice"]}],
        },
    )
    assert response.status_code == 201
    return dict(response.json())


def twilio_body(account: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"provider": "CUSTOM_TWILIO", "sid": account["accountSid"], "authToken": account["authToken"], **extra}


def create(api: Api, env: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(api.senders_path(env), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def put(api: Api, env: str, sender: dict[str, Any], account: dict[str, Any], **changes: Any):  # type: ignore[no-untyped-def]
    return api.put(api.senders_path(env, sender["id"]), json={**sender, "authToken": account["authToken"], **changes})


def test_numbers_are_read_from_the_account(admin_api: Api, env: str, twilio_account: dict[str, Any]) -> None:
    sender = create(admin_api, env, twilio_body(twilio_account))
    assert "authToken" not in sender
    assert "name" not in sender  # optional for CUSTOM_TWILIO
    assert sender["numbers"] == [
        {
            "number": "+15005550006",
            "type": "PHONE_NUMBER",
            "selected": False,
            "available": True,
            "capabilities": ["SMS", "VOICE"],
        },
        {
            "number": "+15005550007",
            "type": "PHONE_NUMBER",
            "selected": False,
            "available": True,
            "capabilities": ["SMS"],
        },
        {
            "number": "+18005550100",
            "type": "TOLL_FREE",
            "selected": False,
            "available": True,
            "capabilities": ["SMS", "VOICE"],
        },
        {"number": "55501", "type": "SHORT_CODE", "selected": False, "available": True, "capabilities": ["SMS"]},
    ]


def test_numbers_over_several_pages(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    many = [{"phoneNumber": f"+1500555{i:04d}", "sms": True, "voice": False} for i in range(205)]
    account = sandbox.http.post("/_admin/accounts", json={"numbers": many}).json()
    sender = create(admin_api, env, twilio_body(account))
    assert [n["number"] for n in sender["numbers"]] == [n["phoneNumber"] for n in many]
    pages = [r for r in sandbox.requests(account["accountSid"]) if r["path"].endswith("IncomingPhoneNumbers.json")]
    assert len(pages) == 3


def test_account_without_numbers_is_refused(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    account = sandbox.account(services=1)
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=twilio_body(account)), 400, "INVALID_DATA"
    )
    assert "no phone numbers" in detail(result, "INVALID_VALUE", "sid")["message"]


def test_bad_credentials(admin_api: Api, env: str, twilio_account: dict[str, Any]) -> None:
    body = {**twilio_body(twilio_account), "authToken": "nope"}
    result = assert_pingone_error(admin_api.post(admin_api.senders_path(env), json=body), 400, "INVALID_DATA")
    detail(result, "INVALID_VALUE", "authToken")


def test_select_numbers_and_countries(admin_api: Api, env: str, twilio_account: dict[str, Any]) -> None:
    sender = create(admin_api, env, twilio_body(twilio_account, name="Own numbers"))
    numbers = [dict(n) for n in sender["numbers"]]
    numbers[0]["selected"] = True
    numbers[2].update(selected=True, supportedCountries=["US", "CA"])
    numbers[3].update(selected=True, supportedCountries=["US"])
    response = put(admin_api, env, sender, twilio_account, numbers=numbers)
    assert response.status_code == 200, response.text
    stored = admin_api.get(admin_api.senders_path(env, sender["id"])).json()
    assert [n["selected"] for n in stored["numbers"]] == [True, False, True, True]
    assert stored["numbers"][2]["supportedCountries"] == ["US", "CA"]
    assert "supportedCountries" not in stored["numbers"][1]


@pytest.mark.parametrize(
    ("index", "countries", "code", "target"),
    [
        (0, ["US"], "INVALID_VALUE", "numbers[0].supportedCountries"),  # PHONE_NUMBER: never
        (3, ["US", "CA"], "INVALID_VALUE", "numbers[3].supportedCountries"),  # SHORT_CODE: exactly one
        (3, [], "EMPTY_VALUE", "numbers[3].supportedCountries"),  # empty is invalid; null means US only
        (2, [], "EMPTY_VALUE", "numbers[2].supportedCountries"),
        (2, ["USA"], "INVALID_VALUE", "numbers[2].supportedCountries[0]"),  # ISO alpha-2 only
        (2, ["us"], "INVALID_VALUE", "numbers[2].supportedCountries[0]"),
        (2, ["US", "US"], "INVALID_VALUE", "numbers[2].supportedCountries"),
    ],
)
def test_country_rules(
    admin_api: Api, env: str, twilio_account: dict[str, Any], index: int, countries: list[str], code: str, target: str
) -> None:
    sender = create(admin_api, env, twilio_body(twilio_account))
    numbers = [dict(n) for n in sender["numbers"]]
    numbers[index]["supportedCountries"] = countries
    result = assert_pingone_error(put(admin_api, env, sender, twilio_account, numbers=numbers), 400, "INVALID_DATA")
    detail(result, code, target)
    assert admin_api.get(admin_api.senders_path(env, sender["id"])).json() == sender  # nothing changed


def test_number_the_account_lacks_is_kept_unavailable(
    admin_api: Api, env: str, twilio_account: dict[str, Any], sandbox: SandboxAdmin
) -> None:
    sender = create(admin_api, env, twilio_body(twilio_account))
    numbers = [dict(n) for n in sender["numbers"]]
    numbers[1]["selected"] = True
    extra = {"number": "+15005550999", "type": "PHONE_NUMBER", "selected": True, "capabilities": ["SMS"]}
    response = put(admin_api, env, sender, twilio_account, numbers=[*numbers, extra])
    assert response.status_code == 200, response.text
    assert response.json()["numbers"][-1] == {**extra, "available": False}

    # A number that disappears from the account stays, unavailable, with its selection.
    gone = sandbox.http.delete(f"/_admin/accounts/{twilio_account['accountSid']}/numbers/%2B15005550007")
    assert gone.status_code == 204
    again = put(admin_api, env, sender, twilio_account, numbers=response.json()["numbers"])
    assert again.status_code == 200, again.text
    kept = {n["number"]: n for n in again.json()["numbers"]}
    assert kept["+15005550007"]["available"] is False
    assert kept["+15005550007"]["selected"] is True


def test_type_must_match_the_account(admin_api: Api, env: str, twilio_account: dict[str, Any]) -> None:
    sender = create(admin_api, env, twilio_body(twilio_account))
    numbers = [dict(n) for n in sender["numbers"]]
    numbers[2]["type"] = "PHONE_NUMBER"
    result = assert_pingone_error(put(admin_api, env, sender, twilio_account, numbers=numbers), 400, "INVALID_DATA")
    assert detail(result, "INVALID_VALUE", "numbers[2].type")["innerError"]["allowedValues"] == ["TOLL_FREE"]


def test_sid_and_token_immutable(admin_api: Api, env: str, twilio_account: dict[str, Any], sandbox) -> None:  # type: ignore[no-untyped-def]
    sender = create(admin_api, env, twilio_body(twilio_account))
    other = sandbox.account()
    result = assert_pingone_error(
        put(admin_api, env, sender, twilio_account, sid=other["accountSid"], authToken="x"), 400, "INVALID_DATA"
    )
    detail(result, "INVALID_VALUE", "sid")
    detail(result, "INVALID_VALUE", "authToken")


def verify_body(account: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "provider": "CUSTOM_TWILIO_VERIFY",
        "sid": account["accountSid"],
        "authToken": account["authToken"],
        "verifyServiceId": account["verifyServices"][0]["sid"],
        **extra,
    }


def test_verify_sender(admin_api: Api, env: str, twilio_account: dict[str, Any]) -> None:
    sender = create(admin_api, env, verify_body(twilio_account, name="Verify"))
    assert sender["verifyServiceId"] == twilio_account["verifyServices"][0]["sid"]
    assert sender["sid"] == twilio_account["accountSid"]
    assert "authToken" not in sender
    assert "_embedded" not in sender

    one = admin_api.get(admin_api.senders_path(env, sender["id"]), params={"expand": "twilioverifytemplates"})
    assert one.status_code == 200, one.text
    template = twilio_account["verifyTemplates"][0]
    assert one.json()["_embedded"]["twilioVerifyTemplates"] == [
        {"id": template["sid"], "name": "Login code", "channels": ["SMS", "VOICE"]}
    ]
    listed = admin_api.get(admin_api.senders_path(env), params={"expand": "twilioverifytemplates"}).json()
    assert listed["_embedded"]["phoneDeliverySettings"][0]["_embedded"] == one.json()["_embedded"]
    assert "_embedded" not in admin_api.get(admin_api.senders_path(env, sender["id"])).json()


def test_verify_service_must_exist(admin_api: Api, env: str, twilio_account: dict[str, Any]) -> None:
    body = verify_body(twilio_account, verifyServiceId="VA" + "0" * 32)
    result = assert_pingone_error(admin_api.post(admin_api.senders_path(env), json=body), 400, "INVALID_DATA")
    assert "20404" in detail(result, "INVALID_VALUE", "verifyServiceId")["message"]


@pytest.mark.parametrize("value", ["MG" + "0" * 32, "VA123", ""])
def test_verify_service_id_format(admin_api: Api, env: str, twilio_account: dict[str, Any], value: str) -> None:
    body = verify_body(twilio_account, verifyServiceId=value)
    result = assert_pingone_error(admin_api.post(admin_api.senders_path(env), json=body), 400, "INVALID_DATA")
    detail(result, "INVALID_VALUE", "verifyServiceId")


def test_verify_service_id_required(admin_api: Api, env: str, twilio_account: dict[str, Any]) -> None:
    body = verify_body(twilio_account)
    del body["verifyServiceId"]
    result = assert_pingone_error(admin_api.post(admin_api.senders_path(env), json=body), 400, "INVALID_DATA")
    detail(result, "REQUIRED_VALUE", "verifyServiceId")


def test_senders_of_all_types_listed_together_and_counted(
    admin_api: Api, env: str, twilio_account: dict[str, Any], sandbox: SandboxAdmin
) -> None:
    create(admin_api, env, twilio_body(twilio_account))
    create(admin_api, env, verify_body(twilio_account))
    messaging = sandbox.account(services=1)
    for i in range(8):
        create(
            admin_api,
            env,
            {
                "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
                "name": f"m{i}",
                "sid": messaging["accountSid"],
                "authToken": messaging["authToken"],
            },
        )
    listed = admin_api.get(admin_api.senders_path(env)).json()["_embedded"]["phoneDeliverySettings"]
    assert {s["provider"] for s in listed} == {
        "CUSTOM_TWILIO",
        "CUSTOM_TWILIO_VERIFY",
        "CUSTOM_TWILIO_MESSAGING_SERVICE",
    }
    assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=twilio_body(twilio_account)), 400, "REQUEST_FAILED"
    )
