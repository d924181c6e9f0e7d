"""Bad and hostile input to the sandbox's Twilio API: always Twilio's JSON error, never a 500, and one
account never sees another's messages, calls or verifications."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.support import SandboxAdmin


def account(sandbox: SandboxAdmin) -> dict[str, Any]:
    return dict(
        sandbox.http.post(
            "/_admin/accounts",
            json={"numbers": [{"phoneNumber": "+15017122671"}], "verifyServices": ["Acme"], "messagingServices": ["S"]},
        ).json()
    )


def api(sandbox: SandboxAdmin, owner: dict[str, Any], path: str) -> str:
    return f"{sandbox.base}/twilio-api/2010-04-01/Accounts/{owner['accountSid']}{path}"


def auth(owner: dict[str, Any]) -> tuple[str, str]:
    return owner["accountSid"], owner["authToken"]


def twilio_error(response: httpx.Response, status: int, code: int | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "more_info", "status"} and body["status"] == status
    if code is not None:
        assert body["code"] == code, body


@pytest.mark.parametrize(
    "password",
    ["pässwörd", "\u0000", "x" * 10_000, "line\r\nbreak"],
    ids=["non-ascii", "nul", "huge", "crlf"],
)
def test_odd_passwords_are_refused_not_crashed(sandbox: SandboxAdmin, password: str) -> None:
    owner = account(sandbox)
    token = base64.b64encode(f"{owner['accountSid']}:{password}".encode()).decode()
    response = httpx.get(api(sandbox, owner, ".json"), headers={"Authorization": f"Basic {token}"})
    twilio_error(response, 401, 20003)


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"To": "+1415\r\n5550100", "From": "+15017122671", "Body": "x"}, 21211),
        ({"To": "+14155550100\u0000", "From": "+15017122671", "Body": "x"}, 21211),
        ({"To": "+١٤١٥٥٥٥٠١٠٠", "From": "+15017122671", "Body": "x"}, 21211),
        ({"To": "+1" + "5" * 5000, "From": "+15017122671", "Body": "x"}, 21211),
        ({"To": "+14155550100", "From": "+15017122671"}, 21602),
        ({"To": "+14155550100", "From": "+15017122671", "Body": "x" * 1601}, 21617),
        ({"To": "+14155550100", "Body": "x"}, 21603),
        ({"From": "+15017122671", "Body": "x"}, 21604),
        ({"To": "+14155550100", "From": "+19999999999", "Body": "x"}, 21606),
        ({"To": "+14155550100", "MessagingServiceSid": "MG" + "0" * 32, "Body": "x"}, 21701),
    ],
    ids=[
        "crlf",
        "nul",
        "arabic-digits",
        "huge",
        "no-body",
        "body-too-long",
        "no-from",
        "no-to",
        "foreign-from",
        "foreign-service",
    ],
)
def test_bad_sends_get_twilios_errors(sandbox: SandboxAdmin, form: dict[str, str], code: int) -> None:
    owner = account(sandbox)
    twilio_error(httpx.post(api(sandbox, owner, "/Messages.json"), data=form, auth=auth(owner)), 400, code)


@pytest.mark.parametrize(
    "query",
    [{"PageSize": "0"}, {"PageSize": "-1"}, {"Page": "-3"}, {"PageSize": "x"}, {"DateSent>": "2026-13-45"}],
)
def test_bad_paging_and_filters_are_400(sandbox: SandboxAdmin, query: dict[str, str]) -> None:
    owner = account(sandbox)
    twilio_error(httpx.get(api(sandbox, owner, "/Messages.json"), params=query, auth=auth(owner)), 400)


def test_a_huge_page_size_is_capped(sandbox: SandboxAdmin) -> None:
    owner = account(sandbox)
    response = httpx.get(api(sandbox, owner, "/Messages.json"), params={"PageSize": "10000000"}, auth=auth(owner))
    assert response.status_code == 200 and response.json()["page_size"] == 1000


def test_one_account_never_sees_anothers(sandbox: SandboxAdmin) -> None:
    alice, mallory = account(sandbox), account(sandbox)
    sent = httpx.post(
        api(sandbox, alice, "/Messages.json"),
        data={"To": "+14155550100", "From": "+15017122671", "Body": "secret 123456"},
        auth=auth(alice),
    ).json()
    # Mallory's credentials on Alice's path, and Alice's message under Mallory's own path.
    twilio_error(httpx.get(api(sandbox, alice, f"/Messages/{sent['sid']}.json"), auth=auth(mallory)), 401, 20003)
    twilio_error(httpx.get(api(sandbox, mallory, f"/Messages/{sent['sid']}.json"), auth=auth(mallory)), 404, 20404)
    twilio_error(httpx.delete(api(sandbox, mallory, f"/Messages/{sent['sid']}.json"), auth=auth(mallory)), 404, 20404)
    listed = httpx.get(api(sandbox, mallory, "/Messages.json"), auth=auth(mallory)).json()
    assert listed["messages"] == []
    # Verify: Alice's verification cannot be checked or fetched through Mallory's account.
    service = alice["verifyServices"][0]["sid"]
    verify = f"{sandbox.base}/twilio-verify/v2/Services/{service}"
    started = httpx.post(f"{verify}/Verifications", data={"To": "+14155550100", "Channel": "sms"}, auth=auth(alice))
    assert started.status_code == 201
    twilio_error(
        httpx.post(f"{verify}/VerificationCheck", data={"To": "+14155550100", "Code": "123456"}, auth=auth(mallory)),
        404,
        20404,
    )
    twilio_error(httpx.get(f"{verify}/Verifications/{started.json()['sid']}", auth=auth(mallory)), 404, 20404)


@pytest.mark.parametrize("code", ["\uff11\uff12\uff13\uff14\uff15\uff16", "12345\u0000", "é" * 6, "9" * 100_000])
def test_odd_verification_codes_are_refused(sandbox: SandboxAdmin, code: str) -> None:
    owner = account(sandbox)
    verify = f"{sandbox.base}/twilio-verify/v2/Services/{owner['verifyServices'][0]['sid']}"
    assert (
        httpx.post(
            f"{verify}/Verifications", data={"To": "+14155550100", "Channel": "sms"}, auth=auth(owner)
        ).status_code
        == 201
    )
    check = httpx.post(f"{verify}/VerificationCheck", data={"To": "+14155550100", "Code": code}, auth=auth(owner))
    assert check.status_code == 200 and check.json()["status"] == "pending", check.text
    bad_custom = httpx.post(
        f"{verify}/Verifications", data={"To": "+14155550101", "Channel": "sms", "CustomCode": code}, auth=auth(owner)
    )
    twilio_error(bad_custom, 400, 60200)


def test_html_in_a_body_is_kept_as_text(sandbox: SandboxAdmin) -> None:
    owner = account(sandbox)
    body = "<script>alert(1)</script>\r\n"
    sent = httpx.post(
        api(sandbox, owner, "/Messages.json"),
        data={"To": "+14155550100", "From": "+15017122671", "Body": body},
        auth=auth(owner),
    )
    assert sent.status_code == 201 and sent.json()["body"] == body
    assert sent.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://127.0.0.1:99999/x",
        "http://127.0.0.1/\u0000",
        "ftp://127.0.0.1/x",
        "/relative",
        "x" * 5000,
    ],
    ids=["bad-ipv6", "bad-port", "nul", "ftp", "relative", "huge"],
)
def test_an_unusable_status_callback_is_refused_at_create(sandbox: SandboxAdmin, url: str) -> None:
    """Such a URL used to kill the task that moves the message along: it stayed queued for ever."""
    owner = account(sandbox)
    form = {"To": "+14155550100", "From": "+15017122671", "Body": "x", "StatusCallback": url}
    twilio_error(httpx.post(api(sandbox, owner, "/Messages.json"), data=form, auth=auth(owner)), 400, 21609)


def test_a_slow_callback_receiver_does_not_hold_the_status(sandbox: SandboxAdmin) -> None:
    """The receiver answers after 3 s; the message is delivered on its own schedule all the same."""
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.2)
        held = []
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # never answered
            except TimeoutError:
                continue
        for connection in held:
            connection.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        owner = account(sandbox)
        callback = f"http://127.0.0.1:{listener.getsockname()[1]}/status"
        form = {"To": "+14155550100", "From": "+15017122671", "Body": "x", "StatusCallback": callback}
        sent = httpx.post(api(sandbox, owner, "/Messages.json"), data=form, auth=auth(owner)).json()
        deadline = time.monotonic() + 3
        status = ""
        while time.monotonic() < deadline and status != "delivered":
            status = httpx.get(api(sandbox, owner, f"/Messages/{sent['sid']}.json"), auth=auth(owner)).json()["status"]
            time.sleep(0.02)
        assert status == "delivered"
    finally:
        stop.set()
        holder.join(5)  # before closing the socket it accepts on
        listener.close()


def test_a_raw_non_ascii_authorization_header_is_refused(sandbox: SandboxAdmin) -> None:
    owner = account(sandbox)
    raw = b"Basic \xc3\xa9\xc3\xa9\xc3\xa9"
    response = httpx.get(api(sandbox, owner, ".json"), headers=[(b"Authorization", raw)])
    twilio_error(response, 401, 20003)


@pytest.mark.parametrize(
    "body",
    [
        {"numbers": [{"phoneNumber": "15017122661"}]},
        {"messagingServices": [{"friendlyName": "S", "phoneNumbers": ["not a number"]}]},
        {"verifyServices": [{"friendlyName": "V", "codeLength": "1e999"}]},
        {"verifyServices": [{"friendlyName": "V", "codeLength": 3}]},
    ],
    ids=["not-e164", "pool-not-e164", "overflow", "short-code-length"],
)
def test_bad_admin_seeds_are_400_and_leave_nothing(sandbox: SandboxAdmin, body: dict[str, Any]) -> None:
    sid = "AC" + uuid.uuid4().hex
    raw = json.dumps({"accountSid": sid, **body}).replace('"1e999"', "1e999")  # a number too big for a float
    response = sandbox.http.post("/_admin/accounts", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert sandbox.http.get(f"/_admin/accounts/{sid}").status_code == 404


def test_an_existing_account_is_not_replaced(sandbox: SandboxAdmin) -> None:
    owner = account(sandbox)
    again = sandbox.http.post("/_admin/accounts", json={"accountSid": owner["accountSid"], "numbers": [{}]})
    assert again.status_code == 409
    assert sandbox.http.get(f"/_admin/accounts/{owner['accountSid']}").json()["authToken"] == owner["authToken"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_admin/faults", {"count": 1e999}),
        ("/_admin/scripts", {"phoneNumber": "+14155550100", "delayMs": 1e999}),
        ("/_admin/oauth/clients", {"expiresIn": "soon"}),
    ],
    ids=["fault", "script", "oauth-client"],
)
def test_admin_numbers_that_do_not_fit_are_400(sandbox: SandboxAdmin, path: str, body: dict[str, Any]) -> None:
    assert (
        sandbox.http.post(
            path, content=json.dumps(body).replace("Infinity", "1e999"), headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )


def test_a_removed_number_leaves_its_pool(sandbox: SandboxAdmin) -> None:
    owner = sandbox.http.post(
        "/_admin/accounts",
        json={
            "numbers": [{"phoneNumber": "+15017122681"}],
            "messagingServices": [{"friendlyName": "P", "phoneNumbers": ["+15017122681"]}],
        },
    ).json()
    assert sandbox.http.delete(f"/_admin/accounts/{owner['accountSid']}/numbers/+15017122681").status_code == 204
    listed = sandbox.http.get(f"/_admin/accounts/{owner['accountSid']}").json()["messagingServices"][0]
    assert listed["phoneNumbers"] == []


def test_a_non_ascii_oauth_secret_is_refused_not_crashed(sandbox: SandboxAdmin) -> None:
    client = sandbox.http.post("/_admin/oauth/clients", json={}).json()
    form = {"grant_type": "client_credentials", "client_id": client["clientId"], "client_secret": "sécret"}
    answer = httpx.post(f"{sandbox.base}/oauth/token", data=form)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
