"""The worker keeps the lease of a notification while its send is in flight: a provider slower
than the lease is not sent a second time by the claim loop."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_delivery import chain, inbox, messaging_sender, send, unique_number
from tests.support import SandboxAdmin, bootstrap, private_service, sqlite_settings, wait_final


def test_a_send_slower_than_the_lease_is_sent_once(sandbox: SandboxAdmin, tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, sandbox, lease_seconds=1, provider_timeout_seconds=5)
    with private_service(settings, bootstrap(settings)) as api:
        env = api.new_environment()
        sender, account = messaging_sender(api, env, sandbox)
        chain(api, env, sender["id"])
        # The provider takes 2.5 leases to answer; the claim loop polls every 50 ms meanwhile.
        fault = {"count": 1, "latencyMs": 2500, "pathContains": "/Messages", "accountSid": account["accountSid"]}
        assert sandbox.http.post("/_admin/faults", json=fault).status_code == 201
        number = unique_number()
        created = send(api, env, to=number).json()
        final = wait_final(api, env, created["id"], seconds=20)
    assert final["status"] in ("SENT", "DELIVERED")
    assert [a["outcome"] for a in final["attempts"]] == ["SENT"]
    assert len(inbox(sandbox, number)) == 1
