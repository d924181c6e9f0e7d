"""Hole 3: a sender the API accepted must never make a send crash.

Every value that will travel in an HTTP header is checked when the sender is saved (a field error,
never echoing the value), URLs with a user name or password are refused, and a property test
checks that whatever a create accepts can be test-sent without a 5xx or an internal error.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.gateway import Gateway, custom_sender
from tests.support import Api, SandboxAdmin, assert_pingone_error, detail

BAD_VALUES = [
    "trailing newline\n",
    "line\r\nX-Injected: 1",
    "line\nbreak",
    "carriage\rreturn",
    "caf\u00e9",
    "\u2028",
    "tab\tand\x01control",
    " padded",
]


def gateway_url(sandbox: SandboxAdmin) -> str:
    return f"{sandbox.base}/gateway/{uuid.uuid4().hex}"


@pytest.mark.parametrize("value", BAD_VALUES)
def test_template_header_values_must_be_sendable(admin_api: Api, env: str, sandbox: SandboxAdmin, value: str) -> None:
    body = custom_sender(gateway_url(sandbox), {"method": "BEARER", "authToken": "t"})
    body["requests"][0]["headers"]["X-Value"] = value
    result = assert_pingone_error(admin_api.post(admin_api.senders_path(env), json=body), 400, "INVALID_DATA")
    detail(result, "INVALID_VALUE", "requests[0].headers.X-Value")
    assert value not in str(result)


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize(("method", "field"), [("BEARER", "authToken"), ("CUSTOM_HEADER", "headerValue")])
def test_secret_header_values_must_be_sendable(
    admin_api: Api, env: str, sandbox: SandboxAdmin, value: str, method: str, field: str
) -> None:
    auth = {"method": method, field: value, **({"headerName": "X-Key"} if method == "CUSTOM_HEADER" else {})}
    response = admin_api.post(admin_api.senders_path(env), json=custom_sender(gateway_url(sandbox), auth))
    result = assert_pingone_error(response, 400, "INVALID_DATA")
    detail(result, "INVALID_VALUE", f"authentication.{field}")
    assert value not in response.text  # a secret is never echoed, even a bad one


@pytest.mark.parametrize("name", ["X-Key\n", "Host\n", "Content-Length\n", "X Key"])
def test_header_names_must_be_tokens_to_the_end(admin_api: Api, env: str, sandbox: SandboxAdmin, name: str) -> None:
    body = custom_sender(gateway_url(sandbox), {"method": "BEARER", "authToken": "t"})
    body["requests"][0]["headers"][name] = "v"
    result = assert_pingone_error(admin_api.post(admin_api.senders_path(env), json=body), 400, "INVALID_DATA")
    assert result["details"][0]["target"].startswith("requests[0].headers")
    auth = {"method": "CUSTOM_HEADER", "headerName": name, "headerValue": "v"}
    response = admin_api.post(admin_api.senders_path(env), json=custom_sender(gateway_url(sandbox), auth))
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "authentication.headerName")


@pytest.mark.parametrize("username", ["user:name", "user\nname", "user\x7fname"])
def test_basic_user_names_must_work_in_basic_authentication(
    admin_api: Api, env: str, sandbox: SandboxAdmin, username: str
) -> None:
    auth = {"method": "BASIC", "username": username, "password": "p"}
    response = admin_api.post(admin_api.senders_path(env), json=custom_sender(gateway_url(sandbox), auth))
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "authentication.username")


@pytest.mark.parametrize(
    "url",
    ["https://user:s3cr3tpw@gw.example/sms", "https://user@gw.example/sms", "https://:s3cr3tpw@93.184.216.34/sms"],
)
def test_urls_with_user_information_are_refused(admin_api: Api, env: str, url: str) -> None:
    body = custom_sender(url, {"method": "BEARER", "authToken": "t"})
    response = admin_api.post(admin_api.senders_path(env), json=body)
    problem = detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "requests[0].url")
    assert "user name or password" in problem["message"]
    assert "s3cr3tpw" not in response.text


@pytest.mark.parametrize("token", ["tok\x01en", "tok\nen", "t\u00f6ken", "token ", "token\n"])
@pytest.mark.parametrize("provider", ["CUSTOM_SYNIVERSE", "CUSTOM_SYNIVERSE_CHANNELS"])
def test_syniverse_tokens_must_be_sendable(admin_api: Api, env: str, token: str, provider: str) -> None:
    response = admin_api.post(admin_api.senders_path(env), json={"provider": provider, "name": "s", "authToken": token})
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "authToken")
    assert token not in response.text


def test_a_template_header_that_the_authentication_writes_is_refused(
    admin_api: Api, env: str, sandbox: SandboxAdmin
) -> None:
    body = custom_sender(gateway_url(sandbox), {"method": "BEARER", "authToken": "t"})
    body["requests"][0]["headers"]["authorization"] = "Bearer other"
    response = admin_api.post(admin_api.senders_path(env), json=body)
    detail(assert_pingone_error(response, 400, "INVALID_DATA"), "INVALID_VALUE", "requests[0].headers.authorization")


# What a property test may put where headers and URLs go: the characters that broke sends before.
NASTY = ["\t", "\r", "\n", "\x00", "\x01", "\x7f", ":", "@", "é", "\u2028", "%", "/", "?", "#", "$", "{", "}"]
# Half plain, half with the characters that broke sends, so that many bodies are accepted.
nasty_text = st.one_of(
    st.text(alphabet="aZ0-._~", min_size=1, max_size=12),
    st.text(alphabet=st.sampled_from(["a", "Z", "0", " ", "-", *NASTY]), max_size=12),
)
header_names = st.one_of(
    st.sampled_from(
        ["X-Key", "X-Other", "Content-Type", "Host", "Transfer-Encoding", "Authorization", "x y", "", "Proxy-X"]
    ),
    nasty_text,
)
methods = st.sampled_from(["BASIC", "BEARER", "OAUTH2", "CUSTOM_HEADER"])


@st.composite
def custom_bodies(draw: st.DrawFn, gateway: str, token_url: str, client: dict[str, Any]) -> dict[str, Any]:
    method = draw(methods)
    auth: dict[str, Any] = {"method": method}
    if method == "BASIC":
        auth.update(username=draw(nasty_text), password=draw(nasty_text))
    elif method == "BEARER":
        auth["authToken"] = draw(nasty_text)
    elif method == "OAUTH2":
        auth.update(authUrl=token_url, clientId=client["clientId"], clientSecret=client["clientSecret"])
    else:
        auth.update(headerName=draw(header_names), headerValue=draw(nasty_text))
    suffix = draw(nasty_text).replace("#", "")
    url = draw(
        st.sampled_from(
            [gateway, gateway + "/" + suffix, gateway.replace("http://", "http://u:p@"), gateway + "?q=" + suffix]
        )
    )
    headers = draw(st.dictionaries(header_names, nasty_text, max_size=2))
    headers["Content-Type"] = "application/json"
    request = {
        "deliveryMethod": "SMS",
        "method": "POST",
        "url": url,
        "headers": headers,
        "body": '{"to": "${to}", "text": "${message}"}',
    }
    name = "p-" + uuid.uuid4().hex[:8]
    return {"provider": "CUSTOM_PROVIDER", "name": name, "authentication": auth, "requests": [request]}


@pytest.fixture(scope="module")
def property_target(admin_api: Api, sandbox: SandboxAdmin) -> dict[str, Any]:
    env = admin_api.new_environment("sendable configuration")
    client = dict(sandbox.http.post("/_admin/oauth/clients", json={}).json())
    token_url = f"{sandbox.base}/oauth/token"
    return {"env": env, "gateway": Gateway.new(sandbox).url, "token_url": token_url, "client": client, "accepted": 0}


@settings(max_examples=150, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_whatever_a_create_accepts_can_be_test_sent(
    admin_api: Api, property_target: dict[str, Any], data: st.DataObject
) -> None:
    t = property_target
    body = data.draw(custom_bodies(t["gateway"], t["token_url"], t["client"]))
    created = admin_api.post(admin_api.senders_path(t["env"]), json=body)
    assert created.status_code in (201, 400), created.text
    if created.status_code != 201:
        return
    sender_id = created.json()["id"]
    t["accepted"] += 1
    try:
        sent = admin_api.post(
            f"{admin_api.senders_path(t['env'], sender_id)}/test", json={"deliveryMethod": "SMS", "to": "+14155552671"}
        )
        assert sent.status_code == 200, sent.text
        assert sent.json()["status"] == "SENT", sent.json()
    finally:
        assert admin_api.delete(admin_api.senders_path(t["env"], sender_id)).status_code == 204


def test_the_property_test_sent_through_many_accepted_senders(property_target: dict[str, Any]) -> None:
    """Runs after the property test (same module): it must really have exercised accepted senders."""
    assert property_target["accepted"] >= 20, property_target["accepted"]
