"""Custom-provider senders pointed at the sandbox's gateway, and what the gateway really received."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

from tests.support import SandboxAdmin


@dataclass
class Gateway:
    """One private path of the sandbox gateway: every request to it is this test's."""

    sandbox: SandboxAdmin
    path: str

    @classmethod
    def new(cls, sandbox: SandboxAdmin) -> Gateway:
        return cls(sandbox, f"/gateway/{uuid.uuid4().hex}")

    @property
    def url(self) -> str:
        return self.sandbox.base + self.path

    def received(self) -> list[dict[str, Any]]:
        requests = self.sandbox.http.get("/_admin/gateway/requests").json()["requests"]
        return [r for r in requests if r["path"].startswith(self.path)]

    def last_headers(self) -> dict[str, str]:
        received = self.received()
        assert received, f"the gateway at {self.path} received nothing"
        return {k.lower(): v for k, v in received[-1]["headers"]}


def sms_template(url: str) -> dict[str, Any]:
    return {
        "deliveryMethod": "SMS",
        "method": "POST",
        "url": url,
        "headers": {"Content-Type": "application/json"},
        "body": '{"to": "${to}", "text": "${message}"}',
    }


def custom_sender(url: str, authentication: dict[str, Any], name: str = "gateway", **extra: Any) -> dict[str, Any]:
    return {
        "provider": "CUSTOM_PROVIDER",
        "name": name,
        "authentication": authentication,
        "requests": [sms_template(url)],
        **extra,
    }


def oauth_client(sandbox: SandboxAdmin) -> dict[str, Any]:
    return dict(sandbox.http.post("/_admin/oauth/clients", json={}).json())


def oauth_token_client(sandbox: SandboxAdmin, token: str) -> str | None:
    """Which OAuth2 client the sandbox issued this access token to."""
    for item in sandbox.http.get("/_admin/oauth/tokens").json()["tokens"]:
        if item["accessToken"] == token:
            return str(item["clientId"])
    return None


def credentials_seen(sandbox: SandboxAdmin, headers: dict[str, str], authentication: dict[str, Any]) -> bool:
    """Whether the headers a gateway received carry exactly the credentials of ``authentication``."""
    method = authentication["method"]
    authorization = headers.get("authorization")
    if method == "BASIC":
        raw = f"{authentication['username']}:{authentication['password']}".encode()
        return authorization == "Basic " + base64.b64encode(raw).decode()
    if method == "BEARER":
        return authorization == f"Bearer {authentication['authToken']}"
    if method == "OAUTH2":
        if authorization is None or not authorization.startswith("Bearer "):
            return False
        return oauth_token_client(sandbox, authorization.removeprefix("Bearer ")) == authentication["clientId"]
    name = authentication["headerName"].lower()
    return headers.get(name) == authentication["headerValue"] and (name == "authorization" or authorization is None)
