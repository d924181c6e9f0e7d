"""CUSTOM_PROVIDER: request templates, authentication methods, numbers and the address guard."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, SandboxAdmin, assert_pingone_error, detail

PUBLIC = "https://93.184.216.34"  # a public literal address: accepted, never contacted by these tests


def gateway(sandbox: SandboxAdmin) -> str:
    return f"{sandbox.base}/gateway/sms"


def custom_body(url: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider": "CUSTOM_PROVIDER",
        "name": "My gateway",
        "authentication": {"method": "BASIC", "username": "pd-user", "password": "pd-pass-123"},
        "requests": [
            {"deliveryMethod": "SMS", "method": "GET", "url": f"{url}?to=${{to}}&msg=${{message}}&from=${{from}}"},
            {
                "deliveryMethod": "VOICE",
                "method": "POST",
                "url": url,
                "headers": {"Content-Type": "application/json"},
                "body": '{"to": "${to}", "text": "${message}", "otp": "${otp}"}',
                "beforeTag": "<Say>",
                "afterTag": '</Say><Pause length="1"/>',
                "phoneNumberFormat": "NUMBER_ONLY",
            },
        ],
        "numbers": [
            {"number": "+15005550300", "type": "PHONE_NUMBER", "capabilities": ["SMS", "VOICE"], "selected": True},
            {"number": "55503", "type": "SHORT_CODE", "capabilities": ["SMS"], "supportedCountries": ["US"]},
        ],
    }
    body.update(extra)
    return body


def post(api: Api, env: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return api.post(api.senders_path(env), json=body)


def test_create_read_update_delete(admin_api: Api, env: str) -> None:
    response = post(admin_api, env, custom_body(PUBLIC + "/sms"))
    assert response.status_code == 201, response.text
    sender = response.json()
    assert sender["authentication"] == {"method": "BASIC", "username": "pd-user"}
    assert "pd-pass-123" not in response.text
    assert sender["requests"][0]["phoneNumberFormat"] == "FULL"  # the default
    assert sender["requests"][1]["phoneNumberFormat"] == "NUMBER_ONLY"
    assert sender["numbers"][1] == {
        "number": "55503",
        "type": "SHORT_CODE",
        "selected": False,
        "available": False,
        "capabilities": ["SMS"],
        "supportedCountries": ["US"],
    }
    assert sender["numbers"][0]["selected"] is True

    update = {**sender, "authentication": {"method": "BEARER", "authToken": "bearer-secret-456"}, "name": "Renamed"}
    replaced = admin_api.put(admin_api.senders_path(env, sender["id"]), json=update)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["authentication"] == {"method": "BEARER"}
    assert "bearer-secret-456" not in replaced.text
    assert admin_api.get(admin_api.senders_path(env, sender["id"])).json()["name"] == "Renamed"
    assert admin_api.delete(admin_api.senders_path(env, sender["id"])).status_code == 204


@pytest.mark.parametrize(
    ("authentication", "returned"),
    [
        ({"method": "BEARER", "authToken": "s3cr3t-value"}, {"method": "BEARER"}),
        (
            {"method": "CUSTOM_HEADER", "headerName": "X-Api-Key", "headerValue": "s3cr3t-value"},
            {"method": "CUSTOM_HEADER", "headerName": "X-Api-Key"},
        ),
    ],
)
def test_secret_fields_are_write_only(
    admin_api: Api, env: str, authentication: dict[str, str], returned: dict[str, str]
) -> None:
    response = post(admin_api, env, custom_body(PUBLIC + "/sms", authentication=authentication))
    assert response.status_code == 201, response.text
    assert response.json()["authentication"] == returned
    assert "s3cr3t-value" not in response.text


def test_oauth2_credentials_checked_by_fetching_a_token(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    client = sandbox.http.post("/_admin/oauth/clients", json={}).json()
    auth = {
        "method": "OAUTH2",
        "authUrl": f"{sandbox.base}/oauth/token",
        "clientId": client["clientId"],
        "clientSecret": client["clientSecret"],
    }
    response = post(admin_api, env, custom_body(gateway(sandbox), authentication=auth))
    assert response.status_code == 201, response.text
    assert response.json()["authentication"] == {
        "method": "OAUTH2",
        "authUrl": auth["authUrl"],
        "clientId": client["clientId"],
    }
    assert client["clientSecret"] not in response.text

    wrong = {**auth, "clientSecret": "wrong"}
    result = assert_pingone_error(
        post(admin_api, env, custom_body(gateway(sandbox), authentication=wrong, name="other")), 400, "INVALID_DATA"
    )
    detail(result, "INVALID_VALUE", "authentication.clientSecret")


@pytest.mark.parametrize(
    ("authentication", "target"),
    [
        ({"method": "BASIC", "username": "u"}, "authentication.password"),
        ({"method": "BASIC", "password": "p"}, "authentication.username"),
        ({"method": "BEARER"}, "authentication.authToken"),
        ({"method": "OAUTH2", "clientId": "c", "clientSecret": "s"}, "authentication.authUrl"),
        ({"method": "CUSTOM_HEADER", "headerValue": "v"}, "authentication.headerName"),
    ],
)
def test_authentication_required_fields(admin_api: Api, env: str, authentication: dict[str, str], target: str) -> None:
    result = assert_pingone_error(
        post(admin_api, env, custom_body(PUBLIC, authentication=authentication)), 400, "INVALID_DATA"
    )
    detail(result, "REQUIRED_VALUE", target)


def test_unknown_auth_method(admin_api: Api, env: str) -> None:
    result = assert_pingone_error(
        post(admin_api, env, custom_body(PUBLIC, authentication={"method": "DIGEST"})), 400, "INVALID_DATA"
    )
    assert "OAUTH2" in detail(result, "INVALID_VALUE", "authentication.method")["innerError"]["allowedValues"]


def one_request(**request: Any) -> dict[str, Any]:
    return custom_body(
        PUBLIC, requests=[{"deliveryMethod": "SMS", "method": "POST", "url": PUBLIC + "/sms", **request}]
    )


@pytest.mark.parametrize(
    ("body", "code", "target"),
    [
        (
            custom_body(PUBLIC, requests=[{"deliveryMethod": "SMS", "method": "GET", "url": PUBLIC + "/?to=${to}"}]),
            "INVALID_VALUE",
            "requests[0].url",
        ),
        (one_request(headers={"Content-Type": "application/json"}), "REQUIRED_VALUE", "requests[0].body"),
        (
            one_request(headers={"Content-Type": "application/json"}, body='{"to": "${to}"}'),
            "INVALID_VALUE",
            "requests[0].body",
        ),
        (
            one_request(headers={"Content-Type": "application/json"}, body="to=${to}&m=${message}"),
            "INVALID_VALUE",
            "requests[0].body",
        ),
        (
            one_request(headers={"Content-Type": "application/json"}, body='{"to": ${to}, "m": "${message}"}'),
            "INVALID_VALUE",
            "requests[0].body",
        ),
        (
            one_request(headers={"Content-Type": "application/x-www-form-urlencoded"}, body='{"to":"${to}${message}"}'),
            "INVALID_VALUE",
            "requests[0].body",
        ),
        (one_request(body="to=${to}&m=${message}"), "INVALID_VALUE", "requests[0].headers"),
        (
            one_request(headers={"Content-Type": "text/plain"}, body="to=${to}&m=${message}"),
            "INVALID_VALUE",
            "requests[0].headers",
        ),
        (
            one_request(
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                body="to=${to}&m=${message}",
                beforeTag="<Say>",
            ),
            "INVALID_VALUE",
            "requests[0].beforeTag",
        ),
        (
            one_request(
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                body="to=${to}&m=${message}",
                phoneNumberFormat="E164",
            ),
            "INVALID_VALUE",
            "requests[0].phoneNumberFormat",
        ),
        (custom_body(PUBLIC, requests=[]), "INVALID_VALUE", "requests"),
        (
            custom_body(
                PUBLIC, requests=[{"deliveryMethod": "SMS", "method": "GET", "url": "ftp://x/${to}${message}"}]
            ),
            "INVALID_VALUE",
            "requests[0].url",
        ),
        (custom_body(PUBLIC, name=None), "REQUIRED_VALUE", "name"),
    ],
)
def test_request_template_rules(admin_api: Api, env: str, body: dict[str, Any], code: str, target: str) -> None:
    body = {k: v for k, v in body.items() if v is not None}
    detail(assert_pingone_error(post(admin_api, env, body), 400, "INVALID_DATA"), code, target)


def test_form_and_json_bodies_accepted(admin_api: Api, env: str) -> None:
    form = one_request(
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        body="to=${to}&message=${message}&sender=${from}",
    )
    assert post(admin_api, env, form).status_code == 201


@pytest.mark.parametrize(
    ("number", "code", "target"),
    [
        (
            {"number": "55503", "type": "SHORT_CODE", "capabilities": ["SMS"]},
            "REQUIRED_VALUE",
            "numbers[0].supportedCountries",
        ),
        (
            {"number": "+18005550100", "type": "TOLL_FREE", "capabilities": ["SMS"]},
            "REQUIRED_VALUE",
            "numbers[0].supportedCountries",
        ),
        (
            {"number": "+18005550100", "type": "TOLL_FREE", "capabilities": ["SMS"], "supportedCountries": []},
            "EMPTY_VALUE",
            "numbers[0].supportedCountries",
        ),
        (
            {"number": "+15005550300", "type": "PHONE_NUMBER", "capabilities": ["SMS"], "supportedCountries": ["US"]},
            "INVALID_VALUE",
            "numbers[0].supportedCountries",
        ),
        ({"number": "+15005550300", "type": "PHONE_NUMBER"}, "REQUIRED_VALUE", "numbers[0].capabilities"),
        ({"number": "+15005550300", "type": "MOBILE", "capabilities": ["SMS"]}, "INVALID_VALUE", "numbers[0].type"),
    ],
)
def test_custom_number_rules(admin_api: Api, env: str, number: dict[str, Any], code: str, target: str) -> None:
    result = assert_pingone_error(post(admin_api, env, custom_body(PUBLIC, numbers=[number])), 400, "INVALID_DATA")
    detail(result, code, target)


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/sms",
        "https://172.16.4.4/sms",
        "https://192.168.1.20/sms",
        "https://169.254.169.254/latest/meta-data",
        "https://127.0.0.1:9/sms",
        "https://[::1]/sms",
        "https://[fd00:ec2::254]/sms",
        "https://localhost/sms",
        "https://100.64.0.1/sms",
    ],
)
def test_private_and_metadata_addresses_refused(admin_api: Api, env: str, url: str) -> None:
    body = custom_body(
        PUBLIC, requests=[{"deliveryMethod": "SMS", "method": "GET", "url": url + "?t=${to}&m=${message}"}]
    )
    message = detail(
        assert_pingone_error(post(admin_api, env, body), 400, "INVALID_DATA"), "INVALID_VALUE", "requests[0].url"
    )["message"]
    assert "refused" in message


def test_private_auth_url_refused(admin_api: Api, env: str) -> None:
    auth = {"method": "OAUTH2", "authUrl": "https://192.168.0.10/token", "clientId": "c", "clientSecret": "s"}
    result = assert_pingone_error(post(admin_api, env, custom_body(PUBLIC, authentication=auth)), 400, "INVALID_DATA")
    detail(result, "INVALID_VALUE", "authentication.authUrl")


def test_plain_http_needs_the_allow_list(admin_api: Api, env: str, sandbox: SandboxAdmin) -> None:
    http_public = custom_body("http://93.184.216.34/sms")
    assert (
        "https"
        in detail(
            assert_pingone_error(post(admin_api, env, http_public), 400, "INVALID_DATA"),
            "INVALID_VALUE",
            "requests[0].url",
        )["message"]
    )
    allowed = post(admin_api, env, custom_body(gateway(sandbox)))  # the sandbox is on the test allow-list
    assert allowed.status_code == 201, allowed.text


def test_one_template_per_method_pair_and_valid_header_names(admin_api: Api, env: str) -> None:
    twice = custom_body(
        PUBLIC,
        requests=[
            {"deliveryMethod": "SMS", "method": "GET", "url": PUBLIC + "/?t=${to}&m=${message}"},
            {"deliveryMethod": "SMS", "method": "GET", "url": PUBLIC + "/b?t=${to}&m=${message}"},
        ],
    )
    detail(assert_pingone_error(post(admin_api, env, twice), 400, "INVALID_DATA"), "INVALID_VALUE", "requests[1]")
    bad_header = custom_body(
        PUBLIC, authentication={"method": "CUSTOM_HEADER", "headerName": "X Key", "headerValue": "v"}
    )
    detail(
        assert_pingone_error(post(admin_api, env, bad_header), 400, "INVALID_DATA"),
        "INVALID_VALUE",
        "authentication.headerName",
    )


def test_custom_provider_names_are_unique(admin_api: Api, env: str) -> None:
    assert post(admin_api, env, custom_body(PUBLIC)).status_code == 201
    detail(
        assert_pingone_error(post(admin_api, env, custom_body(PUBLIC)), 400, "INVALID_DATA"),
        "UNIQUENESS_VIOLATION",
        "name",
    )
