"""Property-based: thousands of generated requests to the phone delivery endpoints.

Whatever is sent, the answer is never a 5xx, every error has PingOne's shape, and no response
carries the auth token.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import Api, SandboxAdmin

EXAMPLES = 1000  # per test and backend: two tests send 2,000 requests per backend

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["name", "sid", "authToken", "provider", "id", "messagingServices", "selected", "_links"]
PROVIDERS = ["CUSTOM_TWILIO_MESSAGING_SERVICE", "CUSTOM_TWILIO", "CUSTOM_PROVIDER", "PINGONE_TWILIO", "", "custom"]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "application/hal+json", "text/plain", ""]


def check(response: Any, secret: str) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    assert secret not in response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) <= {"id", "code", "message", "details"}, body
        assert isinstance(body["id"], str)
        assert isinstance(body["code"], str)
        assert isinstance(body["message"], str)
        for item in body.get("details", []):
            assert isinstance(item["code"], str)
            assert isinstance(item["message"], str)
            assert isinstance(item.get("target", ""), str)


@st.composite
def mutated_bodies(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    kind = draw(st.sampled_from(["valid-ish", "arbitrary", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "arbitrary":
        return json.dumps(draw(json_values)).encode()
    body = dict(base)
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from(FIELDS))
        action = draw(st.sampled_from(["drop", "replace", "provider"]))
        if action == "drop":
            body.pop(field, None)
        elif action == "provider":
            body["provider"] = draw(st.sampled_from(PROVIDERS))
        else:
            body[field] = draw(json_values)
    if draw(st.booleans()):
        services = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "messagingServiceId": st.sampled_from(["MG" + "a" * 32, "MG", ""]) | st.text(max_size=5),
                        "selected": st.booleans() | json_values,
                    }
                ),
                max_size=3,
            )
        )
        body["messagingServices"] = services
    return json.dumps(body).encode()


@pytest.fixture(scope="module")
def target(admin_api: Api, sandbox: SandboxAdmin) -> dict[str, Any]:
    env = admin_api.new_environment("generated")
    account = sandbox.account(services=2)
    base = {
        "name": "gen",
        "sid": account["accountSid"],
        "authToken": account["authToken"],
        "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
    }
    sender = admin_api.post(admin_api.senders_path(env), json=base).json()
    return {"env": env, "base": base, "sender": sender, "secret": account["authToken"], "sent": 0}


fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@fuzz
@given(data=st.data())
def test_generated_creates(admin_api: Api, target: dict[str, Any], data: st.DataObject) -> None:
    content = data.draw(mutated_bodies(target["base"]))
    content_type = data.draw(st.sampled_from(CONTENT_TYPES))
    response = admin_api.post(
        admin_api.senders_path(target["env"]), content=content, headers={"Content-Type": content_type}
    )
    target["sent"] += 1
    check(response, target["secret"])


@fuzz
@given(data=st.data())
def test_generated_reads_updates_deletes(admin_api: Api, target: dict[str, Any], data: st.DataObject) -> None:
    sender = target["sender"]
    sender_id = data.draw(st.sampled_from([sender["id"], str(uuid.uuid4()), "x", "%20", "a" * 300]))
    env = data.draw(st.sampled_from([target["env"], target["env"], str(uuid.uuid4()), "not-an-env"]))
    method = data.draw(st.sampled_from(["GET", "PUT", "PUT", "PUT", "DELETE", "GET-ALL"]))
    if method == "GET-ALL":
        response = admin_api.get(
            admin_api.senders_path(env),
            params=data.draw(
                st.dictionaries(st.sampled_from(["expand", "limit", "filter"]), st.text(max_size=10), max_size=2)
            ),
        )
    elif method == "DELETE":
        response = admin_api.delete(admin_api.senders_path(env, str(uuid.uuid4())))
    elif method == "GET":
        response = admin_api.get(admin_api.senders_path(env, sender_id))
    else:
        base = {**sender, "authToken": target["secret"]}
        content = data.draw(mutated_bodies(base))
        response = admin_api.put(
            admin_api.senders_path(env, sender_id),
            content=content,
            headers={"Content-Type": data.draw(st.sampled_from(CONTENT_TYPES))},
        )
    target["sent"] += 1
    check(response, target["secret"])


def test_enough_requests_were_generated(target: dict[str, Any]) -> None:
    assert target["sent"] >= 2 * EXAMPLES
