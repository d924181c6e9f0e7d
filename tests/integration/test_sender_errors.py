"""Every bad input to phoneDeliverySettings gets the right status and a PingOne error body."""

from __future__ import annotations

import socket
import uuid

import httpx
import pytest

from tests.support import Api, SandboxAdmin, assert_pingone_error, bootstrap, detail, private_service, sqlite_settings


def body_for(account: dict[str, object], **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Messaging sender",
        "sid": account["accountSid"],
        "authToken": account["authToken"],
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def created(api: Api, env: str, account: dict[str, object], **overrides: object) -> dict[str, object]:
    response = api.post(api.senders_path(env), json=body_for(account, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_malformed_json(admin_api: Api, env: str) -> None:
    response = admin_api.post(
        admin_api.senders_path(env), content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert_pingone_error(response, 400, "INVALID_REQUEST")


@pytest.mark.parametrize("payload", [b"[]", b'"text"', b"42", b"null", b"   "])
def test_body_must_be_a_json_object(admin_api: Api, env: str, payload: bytes) -> None:
    response = admin_api.post(
        admin_api.senders_path(env), content=payload, headers={"Content-Type": "application/json"}
    )
    assert_pingone_error(response, 400, "INVALID_REQUEST")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type(admin_api: Api, env: str, content_type: str) -> None:
    response = admin_api.post(admin_api.senders_path(env), content=b"{}", headers={"Content-Type": content_type})
    assert_pingone_error(response, 415, "INVALID_REQUEST")


def test_body_over_one_mebibyte(admin_api: Api, env: str, account: dict[str, object]) -> None:
    big = body_for(account, name="x" * (1024 * 1024))
    response = admin_api.post(admin_api.senders_path(env), json=big)
    assert_pingone_error(response, 413, "INVALID_REQUEST")


def test_body_over_limit_without_content_length(admin_api: Api, env: str) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(300):
            yield b" " * 4096

    response = admin_api.post(
        admin_api.senders_path(env), content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_pingone_error(response, 413, "INVALID_REQUEST")


@pytest.mark.parametrize("field", ["name", "sid", "authToken", "provider"])
def test_missing_field_is_required_value(admin_api: Api, env: str, account: dict[str, object], field: str) -> None:
    body = body_for(account)
    del body[field]
    body_json = assert_pingone_error(admin_api.post(admin_api.senders_path(env), json=body), 400, "INVALID_DATA")
    assert detail(body_json, "REQUIRED_VALUE", field)["message"]


def test_several_problems_are_reported_together(admin_api: Api, env: str) -> None:
    body = {"provider": "CUSTOM_TWILIO_MESSAGING_SERVICE", "sid": "MG" + "0" * 32}
    result = assert_pingone_error(admin_api.post(admin_api.senders_path(env), json=body), 400, "INVALID_DATA")
    detail(result, "REQUIRED_VALUE", "name")
    detail(result, "REQUIRED_VALUE", "authToken")
    assert "Messaging Service SID" in detail(result, "INVALID_VALUE", "sid")["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", 5), ("sid", ["AC"]), ("authToken", True), ("name", None), ("authToken", {"a": 1})],
)
def test_wrong_types(admin_api: Api, env: str, account: dict[str, object], field: str, value: object) -> None:
    body = body_for(account)
    body[field] = value
    result = assert_pingone_error(admin_api.post(admin_api.senders_path(env), json=body), 400, "INVALID_DATA")
    assert any(d.get("target") == field for d in result["details"]), result


def test_empty_name(admin_api: Api, env: str, account: dict[str, object]) -> None:
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(account, name="   ")), 400, "INVALID_DATA"
    )
    detail(result, "EMPTY_VALUE", "name")


def test_unknown_provider_lists_allowed_values(admin_api: Api, env: str, account: dict[str, object]) -> None:
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(account, provider="CUSTOM_VONAGE")),
        400,
        "INVALID_DATA",
    )
    allowed = detail(result, "INVALID_VALUE", "provider")["innerError"]["allowedValues"]
    assert "CUSTOM_TWILIO_MESSAGING_SERVICE" in allowed
    assert "CUSTOM_PROVIDER" in allowed


def test_messaging_service_sid_in_sid_explains_which_sid(admin_api: Api, env: str, account: dict[str, object]) -> None:
    mg = account["messagingServices"][0]["sid"]  # type: ignore[index]
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(account, sid=mg)), 400, "INVALID_DATA"
    )
    message = detail(result, "INVALID_VALUE", "sid")["message"]
    assert "Account SID" in message
    assert "Messaging Service SID" in message


def test_bad_twilio_credentials(admin_api: Api, env: str, account: dict[str, object]) -> None:
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(account, authToken="wrong-token")),
        400,
        "INVALID_DATA",
    )
    message = detail(result, "INVALID_VALUE", "authToken")["message"]
    assert "Authentication with Twilio failed" in message
    assert "20003" in message
    assert "wrong-token" not in str(result)


def test_unknown_account_sid_is_authentication_failure(admin_api: Api, env: str, account: dict[str, object]) -> None:
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(account, sid="AC" + "f" * 32)), 400, "INVALID_DATA"
    )
    assert "Authentication with Twilio failed" in detail(result, "INVALID_VALUE", "authToken")["message"]


def test_account_without_messaging_service(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    empty = sandbox.account(services=0)
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(empty)), 400, "INVALID_DATA"
    )
    assert "no Messaging Service" in detail(result, "INVALID_VALUE", "sid")["message"]
    assert admin_api.get(admin_api.senders_path(env)).json()["_embedded"]["phoneDeliverySettings"] == []


def test_twilio_server_error_is_502_naming_twilio(
    admin_api: Api, env: str, account: dict[str, object], sandbox: SandboxAdmin
) -> None:
    sandbox.fault(
        count=1,
        status=503,
        code=20503,
        message="Service unavailable",
        pathContains="/v1/Services",
        accountSid=account["accountSid"],
    )
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(account)), 502, "REQUEST_FAILED"
    )
    assert "Twilio" in result["message"]
    assert admin_api.get(admin_api.senders_path(env)).json()["_embedded"]["phoneDeliverySettings"] == []


def test_twilio_timeout_is_504_without_hanging(
    admin_api: Api, env: str, account: dict[str, object], sandbox: SandboxAdmin
) -> None:
    # the provider timeout is 2 s in tests
    sandbox.fault(count=1, latencyMs=3500, pathContains="/v1/Services", accountSid=account["accountSid"])
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(account)), 504, "REQUEST_FAILED"
    )
    assert "Twilio did not answer in time" in result["message"]


def test_twilio_unreachable_is_502(sandbox: SandboxAdmin, tmp_path, account) -> None:  # type: ignore[no-untyped-def]

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = sqlite_settings(tmp_path, sandbox).model_copy(
        update={"twilio_messaging_base_url": f"http://127.0.0.1:{closed_port}"}
    )
    with private_service(settings, bootstrap(settings)) as api:
        env = api.new_environment()
        result = assert_pingone_error(api.post(api.senders_path(env), json=body_for(account)), 502, "REQUEST_FAILED")
    assert "Twilio is unavailable" in result["message"]


def test_name_unique_per_environment(
    admin_api: Api, env: str, account: dict[str, object], sandbox: SandboxAdmin
) -> None:
    created(admin_api, env, account, name="Primary")
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(sandbox.account(), name="Primary")),
        400,
        "INVALID_DATA",
    )
    detail(result, "UNIQUENESS_VIOLATION", "name")
    other_env = admin_api.new_environment()
    created(admin_api, other_env, account, name="Primary")  # another environment may reuse it


def test_eleventh_sender_is_refused(admin_api: Api, env: str, account: dict[str, object]) -> None:
    for i in range(10):
        created(admin_api, env, account, name=f"sender {i}")
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(account, name="sender 10")), 400, "REQUEST_FAILED"
    )
    assert "maximum of 10" in result["message"]
    assert len(admin_api.get(admin_api.senders_path(env)).json()["_embedded"]["phoneDeliverySettings"]) == 10


def test_unknown_ids(admin_api: Api, env: str) -> None:
    unknown = str(uuid.uuid4())
    for method in ("GET", "DELETE"):
        assert_pingone_error(admin_api.request(method, admin_api.senders_path(env, unknown)), 404, "NOT_FOUND")
        assert_pingone_error(admin_api.request(method, admin_api.senders_path(env, "not-a-uuid")), 404, "NOT_FOUND")
    assert_pingone_error(admin_api.put(admin_api.senders_path(env, unknown), json={}), 404, "NOT_FOUND")


def test_unknown_environment(admin_api: Api, account: dict[str, object]) -> None:
    unknown = str(uuid.uuid4())
    assert_pingone_error(admin_api.get(admin_api.senders_path(unknown)), 404, "NOT_FOUND")
    assert_pingone_error(admin_api.post(admin_api.senders_path(unknown), json=body_for(account)), 404, "NOT_FOUND")
    assert_pingone_error(admin_api.get(admin_api.senders_path("nope")), 404, "NOT_FOUND")


def test_unknown_route_and_method(admin_api: Api, env: str) -> None:
    assert_pingone_error(admin_api.get("/v1/nothing/here"), 404, "NOT_FOUND")
    response = admin_api.request("PATCH", admin_api.senders_path(env, str(uuid.uuid4())), json={})
    assert_pingone_error(response, 405, "INVALID_REQUEST")


class TestReplaceRules:
    @pytest.fixture
    def sender(self, admin_api: Api, env: str, account: dict[str, object]) -> dict[str, object]:
        return created(admin_api, env, account)

    def put(self, api: Api, env: str, sender: dict[str, object], account: dict[str, object], **changes: object):  # type: ignore[no-untyped-def]
        body = {**sender, "authToken": account["authToken"], **changes}
        return api.put(api.senders_path(env, str(sender["id"])), json=body)

    def test_id_in_body_must_match_path(self, admin_api: Api, env: str, sender, account) -> None:  # type: ignore[no-untyped-def]
        result = assert_pingone_error(
            self.put(admin_api, env, sender, account, id=str(uuid.uuid4())), 400, "INVALID_DATA"
        )
        detail(result, "INVALID_VALUE", "id")

    def test_provider_is_immutable(self, admin_api: Api, env: str, sender, account) -> None:  # type: ignore[no-untyped-def]
        result = assert_pingone_error(
            self.put(admin_api, env, sender, account, provider="CUSTOM_TWILIO"), 400, "INVALID_DATA"
        )
        detail(result, "INVALID_VALUE", "provider")

    def test_sid_is_immutable(self, admin_api: Api, env: str, sender, account, sandbox) -> None:  # type: ignore[no-untyped-def]
        other = sandbox.account()
        result = assert_pingone_error(
            self.put(admin_api, env, sender, account, sid=other["accountSid"]), 400, "INVALID_DATA"
        )
        detail(result, "INVALID_VALUE", "sid")

    def test_auth_token_is_immutable(self, admin_api: Api, env: str, sender, account) -> None:  # type: ignore[no-untyped-def]
        result = assert_pingone_error(
            self.put(admin_api, env, sender, account, authToken="changed"), 400, "INVALID_DATA"
        )
        assert "cannot be changed" in detail(result, "INVALID_VALUE", "authToken")["message"]
        assert 'changed"' not in str(result)

    def test_auth_token_is_required_on_put(self, admin_api: Api, env: str, sender) -> None:  # type: ignore[no-untyped-def]
        response = admin_api.put(admin_api.senders_path(env, str(sender["id"])), json=sender)
        detail(assert_pingone_error(response, 400, "INVALID_DATA"), "REQUIRED_VALUE", "authToken")

    def test_messaging_services_required_on_put(self, admin_api: Api, env: str, sender, account) -> None:  # type: ignore[no-untyped-def]
        body = {k: v for k, v in sender.items() if k != "messagingServices"}
        response = admin_api.put(
            admin_api.senders_path(env, str(sender["id"])), json={**body, "authToken": account["authToken"]}
        )
        detail(assert_pingone_error(response, 400, "INVALID_DATA"), "REQUIRED_VALUE", "messagingServices")

    def test_only_one_selected(self, admin_api: Api, env: str, sender, account) -> None:  # type: ignore[no-untyped-def]
        services = [{**s, "selected": True} for s in sender["messagingServices"]]
        result = assert_pingone_error(
            self.put(admin_api, env, sender, account, messagingServices=services), 400, "INVALID_DATA"
        )
        detail(result, "INVALID_VALUE", "messagingServices")

    def test_selected_must_exist_in_account(self, admin_api: Api, env: str, sender, account) -> None:  # type: ignore[no-untyped-def]
        services = [*sender["messagingServices"], {"messagingServiceId": "MG" + "a" * 32, "selected": True}]
        result = assert_pingone_error(
            self.put(admin_api, env, sender, account, messagingServices=services), 400, "INVALID_DATA"
        )
        detail(result, "INVALID_VALUE", "messagingServices[3].messagingServiceId")

    def test_services_are_read_again_from_twilio(self, admin_api: Api, env: str, sender, account, sandbox) -> None:  # type: ignore[no-untyped-def]
        gone = sender["messagingServices"][0]["messagingServiceId"]
        assert (
            sandbox.http.delete(f"/_admin/accounts/{account['accountSid']}/messaging-services/{gone}").status_code
            == 204
        )
        services = [{**s, "selected": s["messagingServiceId"] == gone} for s in sender["messagingServices"]]
        result = assert_pingone_error(
            self.put(admin_api, env, sender, account, messagingServices=services), 400, "INVALID_DATA"
        )
        detail(result, "INVALID_VALUE", "messagingServices[0].messagingServiceId")
        keep = sender["messagingServices"][1]["messagingServiceId"]
        services = [{**s, "selected": s["messagingServiceId"] == keep} for s in sender["messagingServices"]]
        response = self.put(admin_api, env, sender, account, messagingServices=services)
        assert response.status_code == 200, response.text
        assert gone not in {s["messagingServiceId"] for s in response.json()["messagingServices"]}

    def test_rename_to_existing_name(self, admin_api: Api, env: str, sender, account) -> None:  # type: ignore[no-untyped-def]
        created(admin_api, env, account, name="Taken")
        result = assert_pingone_error(self.put(admin_api, env, sender, account, name="Taken"), 400, "INVALID_DATA")
        detail(result, "UNIQUENESS_VIOLATION", "name")

    def test_failed_put_changes_nothing(self, admin_api: Api, env: str, sender, account) -> None:  # type: ignore[no-untyped-def]
        self.put(admin_api, env, sender, account, name="New name", authToken="changed")
        current = admin_api.get(admin_api.senders_path(env, str(sender["id"]))).json()
        assert current == sender


def test_error_ids_are_unique(admin_api: Api, env: str) -> None:
    ids = {
        admin_api.post(admin_api.senders_path(env), content=b"{", headers={"Content-Type": "application/json"}).json()[
            "id"
        ]
        for _ in range(5)
    }
    assert len(ids) == 5


def test_no_stack_trace_in_any_error(stack, admin_api: Api, env: str) -> None:  # type: ignore[no-untyped-def]
    response = httpx.post(
        f"{stack.url}{admin_api.senders_path(env)}",
        content=b"\xff\xfe",
        headers={"Authorization": f"Bearer {admin_api.token}", "Content-Type": "application/json"},
    )
    assert_pingone_error(response, 400, "INVALID_REQUEST")
    assert "Traceback" not in response.text


def test_nul_characters_are_refused_on_every_database(admin_api: Api, env: str, account: dict[str, object]) -> None:
    result = assert_pingone_error(
        admin_api.post(admin_api.senders_path(env), json=body_for(account, name="bad\u0000name")), 400, "INVALID_DATA"
    )
    detail(result, "INVALID_VALUE", "name")


@pytest.mark.parametrize(
    "params",
    [{"cursor": "!!!"}, {"cursor": "MTpcdTAwMDA="}, {"actionType": "x\u0000"}, {"limit": "0"}, {"limit": "abc"}],
)
def test_bad_activity_paging_parameters(admin_api: Api, env: str, params: dict[str, str]) -> None:
    assert_pingone_error(admin_api.get(f"/v1/environments/{env}/activities", params=params), 400, "INVALID_DATA")
