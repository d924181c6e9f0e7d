"""The sandbox pages like Twilio and the client follows pages against its configured base only."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from phone_delivery.domain.errors import ProviderRejected
from phone_delivery.providers.twilio_rest import TwilioBases, TwilioRestClient, _rebase
from phone_delivery.sandbox.app import create_sandbox_app
from phone_delivery.sandbox.state import SandboxState
from tests.support import serving


def bases(url: str) -> TwilioBases:
    return TwilioBases(api=f"{url}/twilio-api", messaging=f"{url}/twilio-messaging", verify=f"{url}/twilio-verify")


def test_rebase_keeps_our_host_and_prefix() -> None:
    assert _rebase(
        "http://127.0.0.1:9/sandbox/twilio-messaging",
        "https://evil.example/sandbox/twilio-messaging/v1/Services?Page=1&PageSize=2",
    ) == ("http://127.0.0.1:9/sandbox/twilio-messaging/v1/Services?Page=1&PageSize=2")
    assert _rebase("https://messaging.twilio.com", "https://messaging.twilio.com/v1/Services?Page=2") == (
        "https://messaging.twilio.com/v1/Services?Page=2"
    )


def test_sandbox_honours_page_size_with_absolute_next_urls() -> None:
    state = SandboxState()
    account = state.add_account()
    for i in range(5):
        state.add_messaging_service(account.sid, f"s{i}")
    with serving(create_sandbox_app(state)) as server:
        auth = (account.sid, account.auth_token)
        first = httpx.get(f"{server.url}/twilio-messaging/v1/Services", params={"PageSize": 2}, auth=auth).json()
        assert [s["friendly_name"] for s in first["services"]] == ["s0", "s1"]
        assert first["meta"]["key"] == "services"
        assert first["meta"]["page_size"] == 2
        assert first["meta"]["next_page_url"].startswith(f"{server.url}/twilio-messaging/v1/Services?")
        last = httpx.get(f"{server.url}/twilio-messaging/v1/Services", params={"PageSize": 2, "Page": 2}, auth=auth)
        assert last.json()["meta"]["next_page_url"] is None
        bad = httpx.get(f"{server.url}/twilio-messaging/v1/Services", auth=(account.sid, "wrong"))
        assert bad.status_code == 401
        assert bad.json() == {
            "code": 20003,
            "message": "Authenticate",
            "more_info": "https://www.twilio.com/docs/errors/20003",
            "status": 401,
        }

        async def list_all() -> list[str]:
            async with httpx.AsyncClient() as http:
                client = TwilioRestClient(
                    http, bases(server.url), account_sid=account.sid, auth_token=account.auth_token
                )
                return [s["friendly_name"] for s in await client.list_messaging_services()]

        assert asyncio.run(list_all()) == [f"s{i}" for i in range(5)]

        async def list_bad() -> None:
            async with httpx.AsyncClient() as http:
                client = TwilioRestClient(http, bases(server.url), account_sid=account.sid, auth_token="nope-token")
                await client.list_messaging_services()

        with pytest.raises(ProviderRejected) as info:
            asyncio.run(list_bad())
        assert info.value.is_authentication
        assert "nope-token" not in str(info.value)
