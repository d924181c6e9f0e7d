"""A sender's life as a state machine (hypothesis): random sequences of create, replace (new
secrets, another authentication method, other numbers, another gateway path), a refused replace,
test sends, outbox sends and delete. After every step, what the gateway receives is exactly what
the last accepted configuration says: its path, its credentials, its selected number. A refused
change changes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.conftest import Stack
from tests.security.gateway import Gateway, credentials_seen, oauth_client
from tests.support import Api, SandboxAdmin, wait_final

# Long enough, and marked, that searching a response for one means something.
secret_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEF0123456789-._~", min_size=8, max_size=24).map(
    lambda text: f"s3cr3t-{text}"
)
NUMBERS = ["+15005550301", "+15005550302", "+15005550303"]
PROBE = {"deliveryMethod": "SMS", "to": "+14155552671"}


def authentication(draw_kind: str, value: str, clients: list[dict[str, Any]], token_url: str) -> dict[str, Any]:
    if draw_kind == "BASIC":
        return {"method": "BASIC", "username": "user-" + value[:8], "password": value}
    if draw_kind == "BEARER":
        return {"method": "BEARER", "authToken": value}
    if draw_kind == "CUSTOM_HEADER":
        return {"method": "CUSTOM_HEADER", "headerName": "X-Api-Key", "headerValue": value}
    client = clients[len(value) % len(clients)]
    return {
        "method": "OAUTH2",
        "authUrl": token_url,
        "clientId": client["clientId"],
        "clientSecret": client["clientSecret"],
    }


authentications = st.tuples(st.sampled_from(["BASIC", "BEARER", "CUSTOM_HEADER", "OAUTH2"]), secret_text)
selections = st.lists(st.booleans(), min_size=len(NUMBERS), max_size=len(NUMBERS))


def body(name: str, gateway: Gateway, auth: dict[str, Any], selected: list[bool]) -> dict[str, Any]:
    return {
        "provider": "CUSTOM_PROVIDER",
        "name": name,
        "authentication": auth,
        "requests": [
            {
                "deliveryMethod": "SMS",
                "method": "POST",
                "url": gateway.url,
                "headers": {"Content-Type": "application/json"},
                "body": '{"to": "${to}", "from": "${from}", "text": "${message}"}',
            }
        ],
        "numbers": [
            {"number": n, "type": "PHONE_NUMBER", "capabilities": ["SMS"], "selected": s}
            for n, s in zip(NUMBERS, selected, strict=True)
        ],
    }


class SenderLife(RuleBasedStateMachine):
    api: Api
    sandbox: SandboxAdmin
    env: str
    clients: list[dict[str, Any]]

    def __init__(self) -> None:
        super().__init__()
        self.sender_id: str | None = None
        self.accepted: dict[str, Any] | None = None  # the body of the last accepted create or replace
        self.gateway: Gateway | None = None
        self.name = "life-" + uuid.uuid4().hex[:8]

    def _auth(self, choice: tuple[str, str]) -> dict[str, Any]:
        return authentication(choice[0], choice[1], self.clients, f"{self.sandbox.base}/oauth/token")

    @precondition(lambda self: self.sender_id is None)
    @rule(auth=authentications, selected=selections)
    def create(self, auth: tuple[str, str], selected: list[bool]) -> None:
        self.gateway = Gateway.new(self.sandbox)
        wanted = body(self.name, self.gateway, self._auth(auth), selected)
        response = self.api.post(self.api.senders_path(self.env), json=wanted)
        assert response.status_code == 201, response.text
        self.sender_id, self.accepted = response.json()["id"], wanted

    @precondition(lambda self: self.sender_id is not None)
    @rule(auth=authentications, selected=selections, move=st.booleans())
    def replace(self, auth: tuple[str, str], selected: list[bool], move: bool) -> None:
        assert self.gateway is not None and self.sender_id is not None
        if move:
            self.gateway = Gateway.new(self.sandbox)
        wanted = body(self.name, self.gateway, self._auth(auth), selected)
        response = self.api.put(self.api.senders_path(self.env, self.sender_id), json={**wanted, "id": self.sender_id})
        assert response.status_code == 200, response.text
        self.accepted = wanted

    @precondition(lambda self: self.sender_id is not None)
    @rule(auth=authentications)
    def refused_replace(self, auth: tuple[str, str]) -> None:
        """A replace with a value that cannot be sent is refused and leaves the sender as it was."""
        assert self.gateway is not None and self.sender_id is not None
        wanted = body(self.name, self.gateway, self._auth(auth), [True, False, False])
        wanted["requests"][0]["headers"]["X-Broken"] = "line\r\nbreak"
        response = self.api.put(self.api.senders_path(self.env, self.sender_id), json=wanted)
        assert response.status_code == 400, response.text

    def _expect_last_request(self) -> None:
        assert self.accepted is not None and self.gateway is not None
        received = self.gateway.received()
        assert received, "the gateway received nothing"
        last = received[-1]
        headers = {k.lower(): v for k, v in last["headers"]}
        assert credentials_seen(self.sandbox, headers, self.accepted["authentication"]), (headers, self.accepted)
        picked = next((n["number"] for n in self.accepted["numbers"] if n["selected"]), "")
        assert json.loads(last["body"])["from"] == picked

    @precondition(lambda self: self.sender_id is not None)
    @rule()
    def test_send(self) -> None:
        assert self.sender_id is not None
        response = self.api.post(
            f"{self.api.senders_path(self.env, self.sender_id)}/test",
            json={"deliveryMethod": "SMS", "to": "+14155552671"},
        )
        assert response.status_code == 200 and response.json()["status"] == "SENT", response.text
        self._expect_last_request()

    @precondition(lambda self: self.sender_id is not None)
    @rule()
    def outbox_send(self) -> None:
        assert self.sender_id is not None
        chain = self.api.put(
            f"/v1/environments/{self.env}/notificationsSettings", json={"smsProvidersFallbackChain": [self.sender_id]}
        )
        assert chain.status_code == 200, chain.text
        accepted = self.api.post(
            f"/v1/environments/{self.env}/notifications",
            json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "life"},
        )
        done = wait_final(self.api, self.env, accepted.json()["id"])
        assert done["status"] == "SENT", done
        self._expect_last_request()

    @precondition(lambda self: self.sender_id is not None)
    @rule()
    def delete(self) -> None:
        assert self.sender_id is not None
        self.api.put(f"/v1/environments/{self.env}/notificationsSettings", json={"smsProvidersFallbackChain": []})
        assert self.api.delete(self.api.senders_path(self.env, self.sender_id)).status_code == 204
        tested = self.api.post(
            f"{self.api.senders_path(self.env, self.sender_id)}/test",
            json={"deliveryMethod": "SMS", "to": "+14155552671"},
        )
        assert tested.status_code == 404
        self.sender_id, self.accepted, self.gateway = None, None, None

    def teardown(self) -> None:
        if self.sender_id is not None:
            self.api.put(f"/v1/environments/{self.env}/notificationsSettings", json={"smsProvidersFallbackChain": []})
            self.api.delete(self.api.senders_path(self.env, self.sender_id))

    @invariant()
    def the_api_shows_the_last_accepted_configuration(self) -> None:
        if self.sender_id is None or self.accepted is None:
            return
        shown = self.api.get(self.api.senders_path(self.env, self.sender_id)).json()
        auth = self.accepted["authentication"]
        public = {k: v for k, v in auth.items() if k in ("method", "username", "authUrl", "clientId", "headerName")}
        assert shown["authentication"] == public
        assert shown["requests"][0]["url"] == self.accepted["requests"][0]["url"]
        assert [n["selected"] for n in shown["numbers"]] == [n["selected"] for n in self.accepted["numbers"]]
        for secret in ("password", "authToken", "clientSecret", "headerValue"):
            if secret in auth:
                assert auth[secret] not in json.dumps(shown)


@pytest.mark.parametrize("run", [0])
def test_a_senders_life(admin_api: Api, sandbox: SandboxAdmin, stack: Stack, run: int) -> None:
    SenderLife.api = admin_api
    SenderLife.sandbox = sandbox
    SenderLife.env = admin_api.new_environment("sender life")
    SenderLife.clients = [oauth_client(sandbox), oauth_client(sandbox)]
    machine = SenderLife.TestCase
    machine.settings = settings(
        max_examples=12,
        stateful_step_count=12,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    machine().runTest()
