"""Custom gateway requests in the inbox: To and From read from their fields, secrets masked."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from phone_delivery.sandbox.gateway_inbox import MASK, gateway_entry_fields
from phone_delivery.sandbox.state import SandboxState
from tests.inbox_support import ServedSandbox, served, unique_number


@pytest.fixture(scope="module")
def box() -> Iterator[ServedSandbox]:
    with served(SandboxState()) as sandbox:
        yield sandbox


def delivered(box: ServedSandbox, path: str) -> dict[str, Any]:
    [entry] = [m for m in box.http.get("/_admin/inbox").json()["messages"] if m.get("path") == path]
    return dict(entry)


def send(box: ServedSandbox, **request: Any) -> dict[str, Any]:
    path = f"/gateway/{uuid.uuid4().hex}"
    response = box.http.request(request.pop("method", "POST"), path, **request)
    assert response.status_code == 200, response.text
    return delivered(box, path)


def test_json_body_names_recipient_and_sender(box: ServedSandbox) -> None:
    to = unique_number()
    entry = send(box, json={"to": to, "from": "ACME", "text": "Code 123456"})
    assert (entry["kind"], entry["to"], entry["from"]) == ("GATEWAY", to, "ACME")
    assert json.loads(entry["body"]) == {"to": to, "from": "ACME", "text": "Code 123456"}


def test_form_body_and_query_string(box: ServedSandbox) -> None:
    to = unique_number()
    entry = send(box, data={"To": to, "Sender": "+15005550006", "Body": "hi"})
    assert (entry["to"], entry["from"]) == (to, "+15005550006")
    entry = send(box, method="GET", params={"phone": to, "originator": "Shop", "msg": "hi"})
    assert (entry["to"], entry["from"]) == (to, "Shop")
    assert "msg=hi" in entry["body"]  # a GET's text is its query string


def test_nested_json_as_gateways_write_it(box: ServedSandbox) -> None:
    to = unique_number()
    body = {"messages": [{"destinations": [{"to": to}], "from": "InfoSMS", "text": "Code 9876"}]}
    entry = send(box, json=body)
    assert (entry["to"], entry["from"]) == (to, "InfoSMS")
    entry = send(box, json={"recipients": [to, "+14155550000"], "message": "x"})
    assert entry["to"] == to  # the first of a list


def test_without_such_fields_both_are_unknown(box: ServedSandbox) -> None:
    entry = send(box, content="just some text", headers={"Content-Type": "text/plain"})
    assert (entry["to"], entry["from"]) == (None, None)
    assert entry["body"] == "just some text"


def test_secrets_are_masked_in_the_inbox_but_recorded_as_sent(box: ServedSandbox) -> None:
    basic = base64.b64encode(b"user:hunter2-basic").decode()
    entry = send(
        box,
        json={"to": unique_number(), "api_key": "sk-body-secret", "auth": {"password": "pw-nested"}},
        params={"access_token": "query-token-1"},
        headers={
            "Authorization": "Bearer bearer-secret-1",
            "X-Api-Key": "header-key-1",
            "X-Vendor-Secret": "header-secret-1",
            "Cookie": "session=cookie-secret-1",
            "X-Forwarded-Credentials": f"Basic {basic}",
            "X-Plain": "shown as sent",
        },
    )
    headers = dict(entry["headers"])
    assert headers["authorization"] == f"Bearer {MASK}"
    assert headers["x-api-key"] == headers["x-vendor-secret"] == headers["cookie"] == MASK
    assert headers["x-forwarded-credentials"] == MASK
    assert headers["x-plain"] == "shown as sent"
    text = json.dumps(entry)
    for secret in ("bearer-secret-1", "header-key-1", "header-secret-1", "cookie-secret-1", basic):
        assert secret not in text
    for secret in ("sk-body-secret", "pw-nested", "query-token-1"):
        assert secret not in text
    raw = box.http.get("/_admin/gateway/requests").json()["requests"][-1]
    assert ["authorization", "Bearer bearer-secret-1"] in raw["headers"]  # exactly as received, in memory


def test_fields_parser_directly() -> None:
    seen = gateway_entry_fields(
        "user=me&password=hunter2",
        [("Proxy-Authorization", "Basic abc"), ("content-type", "application/x-www-form-urlencoded")],
        "msisdn=%2B14155550100&source=Bank&client_secret=s3",
    )
    assert (seen["to"], seen["from"]) == ("+14155550100", "Bank")
    assert seen["headers"] == [("Proxy-Authorization", f"Basic {MASK}"), ("content-type", seen["headers"][1][1])]
    assert "hunter2" not in seen["query"] and "s3" not in seen["body"].split("client_secret=")[1]
    assert gateway_entry_fields("", [], "my auth code is 1234")["body"] == "my auth code is 1234"  # not a form
    assert gateway_entry_fields("", [], '{"to": true, "phone": 14155550100}')["to"] == "14155550100"


def test_a_gateway_request_over_a_real_client(box: ServedSandbox) -> None:
    to = unique_number()
    path = f"/gateway/{uuid.uuid4().hex}"
    httpx.post(f"{box.url}{path}", json={"recipient": to, "sender_id": "Brand"})
    assert (delivered(box, path)["to"], delivered(box, path)["from"]) == (to, "Brand")
