"""A real Chromium drives the web console (/console) against ``phone-delivery dev``: sign in with the dev
credentials, create a Messaging Service sender and select a service, a custom provider whose wrong
field shows its error next to that field, reorder the fallback chain, test-send through a sender,
send an SMS and watch it reach DELIVERED, find it in the log by recipient, see it in the sandbox
inbox; a notification policy edited as JSON (its wrong country code's error beside the editor, then
saved, made default, deleted) refusing a send to a British number; applications (rotate a secret),
activities, markup in names, a narrow window. Every effect is read back through the API or the
sandbox, every request the page made went to 127.0.0.1, and none of them failed (HTTP 400 or more,
the favicon included) but those a test provokes on purpose.

One dev-mode server (the real command, in a subprocess) for the module. Debian's ``chromium`` through
Playwright, never a downloaded browser: skipped without it, failed under CI=true. With
``PHONE_DELIVERY_UPDATE_SCREENSHOTS=1`` the tests also write docs/images/console-*.png.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import hosts, loopback_browser, require_chromium
from tests.integration.test_cli import free_port, wait_ready

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
WIDE = {"width": 1280, "height": 900}


@dataclass
class DevServer:
    url: str
    creds: dict[str, Any]
    http: httpx.Client

    @property
    def env(self) -> str:
        return str(self.creds["environmentId"])

    def senders(self, sender_id: str = "") -> str:
        path = f"/v1/environments/{self.env}/notificationsSettings/phoneDeliverySettings"
        return f"{path}/{sender_id}" if sender_id else path

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def inbox(self, to: str) -> list[dict[str, Any]]:
        answer = self.http.get("/sandbox/_admin/inbox", params={"to": to})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["messages"])


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    require_chromium()  # before starting a server for nothing
    folder = tmp_path_factory.mktemp("console-dev")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (folder / "stdout.log").open("w") as out, (folder / "stderr.log").open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "phone_delivery", "dev", "--port", str(port), "--data-dir", str(folder / "data")],
            stdout=out,
            stderr=err,
            text=True,
        )
        try:
            wait_ready(url, process)
            creds = json.loads((folder / "data" / "dev-credentials.json").read_text())
            token = httpx.post(
                creds["tokenUrl"],
                data={"grant_type": "client_credentials"},
                auth=(creds["clientId"], creds["clientSecret"]),
            ).json()["access_token"]
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
                yield DevServer(url, creds, http)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def unique_number() -> str:
    return f"+1415555{secrets.randbelow(10_000):04d}"


def watch_failures(browser: Any, page: Any) -> list[str]:
    """Every answer of HTTP 400 or more, and every resource the browser failed to load (a favicon
    request is no response event but shows as a console error naming its URL)."""
    failed: list[str] = []
    browser.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on(
        "console",
        lambda m: (
            failed.append(f"{m.text} {m.location.get('url', '')}")
            if m.type == "error" and "Failed to load resource" in m.text
            else None
        ),
    )
    return failed


def assert_no_failure_but(failed: list[str], provoked: tuple[str, ...]) -> None:
    unexpected = [f for f in failed if not any(re.search(p, f) for p in provoked)]
    assert unexpected == [], unexpected


@contextmanager
def console(
    dev: DevServer, tmp_path: Path, viewport: dict[str, int] = WIDE, provoked: tuple[str, ...] = ()
) -> Iterator[Any]:
    """A signed-in console page; afterwards, every request it made went to 127.0.0.1, and none failed
    but those that one of the ``provoked`` patterns finds ("400 {url}", or the console's words and url)."""
    requested: list[str] = []
    errors: list[str] = []
    with loopback_browser(tmp_path / "profile", requested, viewport=viewport) as browser:
        page = browser.new_page()
        failed = watch_failures(browser, page)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{dev.url}/console")
        page.get_by_role("button", name="Sign in with the dev credentials").click()
        page.get_by_role("heading", name="Environments", exact=True).wait_for()
        yield page
    assert errors == [], errors
    assert_no_failure_but(failed, provoked)
    assert requested, "the page made no requests"
    assert hosts(requested) == {"127.0.0.1"}, sorted(u for u in requested if "//127.0.0.1:" not in u)
    assert any("/as/token" in u for u in requested)


def shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("PHONE_DELIVERY_UPDATE_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, IMAGES / path.name)


def go(page: Any, dev: DevServer, route: str, heading: str | re.Pattern[str]) -> None:
    """Follow a console route (the hash: the token stays in the page) and wait for its heading."""
    page.evaluate("route => { location.hash = route }", route)
    page.get_by_role("heading", level=1, name=heading).wait_for()


def status_line(page: Any) -> str:
    return str(page.locator("#status").inner_text())


# True when each element's text sits on one line (no break inside a number, a date, an action type).
ONE_LINE = """els => els.filter(el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
}).map(el => el.innerText)"""


def test_sign_in_with_a_wrong_secret_then_the_dev_credentials(dev: DevServer, tmp_path: Path) -> None:
    requested: list[str] = []
    with loopback_browser(tmp_path / "profile", requested, viewport=WIDE) as browser:
        page = browser.new_page()
        failed = watch_failures(browser, page)
        page.goto(f"{dev.url}/console")
        page.get_by_role("heading", name="Sign in").wait_for()
        # The page names its own icon (else a browser asks for /favicon.ico, a 404), and it loads.
        icon = (
            "fetch(document.querySelector('link[rel=icon]').href).then(r => [r.status, r.headers.get('content-type')])"
        )
        assert page.evaluate(icon) == [200, "image/svg+xml"]
        # An empty form: each field says so once, under itself, and nothing else repeats it.
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_function("() => document.querySelectorAll('[aria-invalid=true]').length === 3")
        assert page.inner_text("body").count("Required.") == 3
        assert "Fill in every field" not in page.inner_text("body")
        page.get_by_label("Environment ID of the application").fill(dev.creds["adminEnvironmentId"])
        page.get_by_label("Client ID").fill(dev.creds["clientId"])
        page.get_by_label("Client secret").fill("not-the-secret")
        page.get_by_role("button", name="Sign in", exact=True).click()
        secret = page.get_by_label("Client secret")
        page.wait_for_function("() => document.querySelector('[data-target=clientSecret]').ariaInvalid === 'true'")
        error = page.locator("#" + secret.get_attribute("aria-describedby").split()[-1])
        assert "wrong secret" in error.inner_text()
        assert page.evaluate("document.activeElement.dataset.target") == "clientSecret"
        # Shown once, beside the field: not again in the status line nor in a box above the form.
        assert page.inner_text("body").count("wrong secret") == 1, page.inner_text("body")
        assert page.locator("[aria-invalid=true]").count() == 1  # the fields filled in since are clear
        shot(page, tmp_path, "signin")
        secret.fill("still-not-the-secret")  # editing the field takes its error away
        assert secret.get_attribute("aria-invalid") is None and error.is_hidden()

        # The token lives in the page's memory only.
        page.get_by_role("button", name="Sign in with the dev credentials").click()
        page.get_by_role("heading", name="Environments", exact=True).wait_for()
        assert page.url.endswith("/console/#/environments")  # the address follows
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0
        assert page.evaluate("document.cookie") == ""
        page.reload()
        page.get_by_role("heading", name="Sign in").wait_for()  # a reload signs out
    assert hosts(requested) == {"127.0.0.1"}
    assert any(u.endswith("/console/dev-credentials") for u in requested)
    assert_no_failure_but(failed, (r"401\b.*/as/token$",))  # the wrong secret's 401, nothing else


def test_environments_show_their_counts(dev: DevServer, tmp_path: Path) -> None:
    before = dev.api("GET", dev.senders()).json()["_embedded"]["phoneDeliverySettings"]
    with console(dev, tmp_path) as page:
        row = page.locator(f"tr[data-environment='{dev.env}']")
        # a predicate that throws fails the wait: the row may not be there yet (or be drawn anew)
        page.wait_for_function(
            "env => { const r = document.querySelector(`tr[data-environment='${env}']`);"
            " return r !== null && !r.innerText.includes('…'); }",
            arg=dev.env,
        )
        cells = row.locator("td").all_inner_texts()
        assert row.locator("th").inner_text().startswith("Development")
        assert cells[0] == str(len(before))
        since = dev.api("GET", f"/v1/environments/{dev.env}/notifications", params={"limit": 1000}).json()
        assert int(cells[1]) <= since["size"]  # today's, within everything this environment ever sent
        shot(page, tmp_path, "environments")

        # Beyond one page of 1000, one request per environment and "1000+": never 10 pages of them.
        asked: list[str] = []

        def full_page(route: Any) -> None:
            asked.append(route.request.url)
            more = {"next": {"href": route.request.url + "&cursor=more"}}
            body = {"_embedded": {"notifications": [{"id": str(i)} for i in range(1000)]}, "_links": more}
            route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

        page.route(re.compile(r"/v1/environments/[^/]+/notifications\?"), full_page)
        go(page, dev, "#/inbox", "Sandbox inbox")
        go(page, dev, "#/environments", "Environments")
        row.wait_for()
        page.wait_for_function("() => !document.querySelector('#main tbody').innerText.includes('…')")
        assert row.locator("td").all_inner_texts()[1] == "1000+"
        assert len(asked) == page.locator("tbody tr[data-environment]").count()
        assert all("limit=1000" in u and "cursor" not in u for u in asked), asked


CREATE_REFUSED = r"400\b.*/phoneDeliverySettings$"  # a POST the API refuses, on purpose


def test_messaging_service_sender_chain_and_delivery(dev: DevServer, tmp_path: Path) -> None:
    recipient = unique_number()
    tested = unique_number()
    with console(dev, tmp_path, provoked=(CREATE_REFUSED,)) as page:
        # Step 1: create with the sandbox account's credentials.
        go(page, dev, f"#/env/{dev.env}/senders", "Senders of Development")
        page.get_by_role("link", name="Twilio Messaging Service").click()
        page.get_by_role("heading", name="New Twilio Messaging Service sender").wait_for()
        assert page.get_by_label("Name").get_attribute("required") is not None  # the API requires it here
        # An empty create: the API's three errors, each once, under its field; none in a box.
        page.get_by_role("button", name="Create, then choose").click()
        page.wait_for_function("() => document.querySelectorAll('[aria-invalid=true]').length === 3")
        assert page.locator(".form-error").is_hidden()
        assert page.inner_text("main").count("name is required.") == 1
        page.get_by_role("button", name="Fill in the sandbox account").click()
        assert page.locator("[aria-invalid=true]").count() == 0 and page.locator(".field-error:visible").count() == 0
        page.get_by_label("Name").fill("Console MS")
        shot(page, tmp_path, "sender-create")
        page.get_by_role("button", name="Create, then choose").click()

        # Step 2: choose one of the services the account returned; the address names the sender.
        page.get_by_role("heading", name="Choose the Messaging Service").wait_for()
        assert re.search(r"/senders/[0-9a-f-]{36}\?step=2$", page.url), page.url
        assert page.locator("ol.steps li[aria-current=step]").inner_text().startswith("Choose")
        # At 400 px each choice stays in its box, its radio on its label's first line.
        page.set_viewport_size({"width": 400, "height": 900})
        misplaced = page.evaluate(
            """() => [...document.querySelectorAll('fieldset.choices .check')].filter(choice => {
              const box = choice.closest('fieldset').getBoundingClientRect();
              const label = choice.querySelector('label').getBoundingClientRect();
              const radio = choice.querySelector('input').getBoundingClientRect();
              const line = parseFloat(getComputedStyle(choice.querySelector('label')).lineHeight);
              const middle = radio.top + radio.height / 2;
              return label.left < box.left || label.right > box.right || radio.right > label.left
                || middle < label.top || middle > label.top + line;
            }).map(choice => choice.innerText)"""
        )
        assert page.locator("fieldset.choices .check").count() >= 3 and misplaced == []
        page.set_viewport_size(WIDE)
        page.get_by_label(re.compile(r"^Sandbox OTP service \(MG")).check()
        shot(page, tmp_path, "sender-choose")
        page.get_by_role("button", name="Save the choice").click()
        page.get_by_text("Messaging Service: Sandbox OTP service").wait_for()
        sender_id = page.url.rsplit("/", 1)[-1]
        assert re.fullmatch(r"[0-9a-f-]{36}", sender_id), page.url
        # Create and choose replaced their own entries: Back goes to the list, not to step 2 again.
        page.go_back()
        page.get_by_role("heading", level=1, name="Senders of Development").wait_for()
        page.go_forward()
        page.get_by_text("Messaging Service: Sandbox OTP service").wait_for()
        sender = dev.api("GET", dev.senders(sender_id)).json()
        assert sender["name"] == "Console MS"
        assert [s["name"] for s in sender["messagingServices"] if s["selected"]] == ["Sandbox OTP service"]

        # Test send through this sender alone: the provider's answer, and the sandbox has it.
        page.get_by_label("To", exact=True).fill(tested)
        page.get_by_role("button", name="Send test").click()
        status = page.locator("[data-test-status]")
        status.wait_for()
        assert status.inner_text() == "SENT"
        shown = page.locator(".result").inner_text()
        [message] = dev.inbox(tested)
        assert message["id"] in shown and message["messagingServiceName"] == "Sandbox OTP service"
        shot(page, tmp_path, "sender-test")

        # The chain: PINGONE_TWILIO, then this sender; then move the sender up, by keyboard.
        go(page, dev, f"#/env/{dev.env}/chain", "Fallback chain of Development")
        add = page.get_by_label("Add to the end")
        add.select_option("PINGONE_TWILIO")
        page.get_by_role("button", name="Add", exact=True).click()
        add.select_option(sender_id)
        page.get_by_role("button", name="Add", exact=True).click()
        assert page.locator("ol.chain > li").all_inner_texts()[1].startswith("Console MS")
        page.get_by_role("button", name="Move Console MS up").focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Move Console MS down"
        assert [li.get_attribute("data-entry") for li in page.locator("ol.chain > li").all()] == [
            sender_id,
            "PINGONE_TWILIO",
        ]
        page.get_by_role("button", name="Save the chain").click()
        page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('Fallback chain saved')")
        chain = dev.api("GET", f"/v1/environments/{dev.env}/notificationsSettings").json()
        assert chain["smsProvidersFallbackChain"] == [sender_id, "PINGONE_TWILIO"]
        shot(page, tmp_path, "chain")

        # Send through the chain and watch it reach DELIVERED, every attempt shown.
        go(page, dev, f"#/env/{dev.env}/notifications", "Notifications of Development")
        assert status_line(page) == ""  # "Fallback chain saved" stays on its page
        send = page.locator("form", has=page.get_by_role("heading", name="Send a message"))
        send.get_by_label("To", exact=True).fill(recipient)
        send.get_by_label("Message").fill("Your console code is 246810")
        send.get_by_role("button", name="Send").click()
        page.get_by_role("heading", name="Notification", exact=True).wait_for()
        page.locator("#notification-status .badge-delivered").wait_for(timeout=20_000)
        attempts = page.locator("#attempts tbody tr")
        assert attempts.count() >= 1
        assert "Console MS" in attempts.first.inner_text() and "SENT" in attempts.first.inner_text()
        notification_id = page.url.rsplit("/", 1)[-1]
        read = dev.api("GET", f"/v1/environments/{dev.env}/notifications/{notification_id}").json()
        assert read["status"] == "DELIVERED" and read["to"] == recipient and read["sender"]["id"] == sender_id
        shot(page, tmp_path, "notification")

        # An unreachable handset (the sandbox's +15005550011): UNDELIVERED, no word of the last one.
        go(page, dev, f"#/env/{dev.env}/notifications", "Notifications of Development")
        assert status_line(page) == ""
        send.get_by_label("To", exact=True).fill("+15005550011")
        send.get_by_role("button", name="Send").click()
        page.get_by_role("heading", name="Notification", exact=True).wait_for()
        page.locator("#notification-status .badge-undelivered").wait_for(timeout=20_000)
        assert "Status: DELIVERED." not in status_line(page)
        undelivered = page.url.rsplit("/", 1)[-1]
        # In the log (1280 px, a long error beside): its code once, no number or date broken.
        go(page, dev, f"#/env/{dev.env}/notifications", "Notifications of Development")
        failed_row = page.locator(f"#log tbody tr[data-notification='{undelivered}']")
        failed_row.wait_for()
        assert failed_row.locator("td").last.inner_text().count("30003") == 1, failed_row.inner_text()
        broken = page.eval_on_selector_all("#log tbody td:nth-child(2), #log tbody time", ONE_LINE)
        assert broken == []

        # The log, filtered by recipient, finds exactly it.
        go(page, dev, f"#/env/{dev.env}/notifications", "Notifications of Development")
        page.get_by_label("Recipient").fill(recipient)
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_function(
            "id => { const rows = document.querySelectorAll('#log tbody tr');"
            " return rows.length === 1 && rows[0].dataset.notification === id }",
            arg=notification_id,
        )
        row = page.locator("#log tbody tr").first
        assert recipient in row.inner_text() and "DELIVERED" in row.inner_text() and "Console MS" in row.inner_text()
        assert "to=" in page.url
        shot(page, tmp_path, "notifications")

        # The sandbox received it: in the console's inbox page, and in the inbox page itself.
        [delivered] = dev.inbox(recipient)
        assert delivered["body"] == "Your console code is 246810" and delivered["code"] == "246810"
        go(page, dev, "#/inbox", "Sandbox inbox")
        page.locator("#inbox li", has_text=recipient).wait_for()
        assert "246810" in page.locator("#inbox li", has_text=recipient).inner_text()
        shot(page, tmp_path, "inbox")
        with page.context.expect_page() as opened:
            page.get_by_role("link", name="Open the full inbox").click()
        inbox = opened.value
        inbox.locator("#messages > li", has_text=recipient).wait_for(timeout=10_000)
        assert "Your console code is 246810" in inbox.locator("#messages > li", has_text=recipient).inner_text()
        inbox.close()

        # Put the chain back for the other tests, through the console's API too.
        go(page, dev, f"#/env/{dev.env}/chain", "Fallback chain of Development")
        for name in ("Console MS", "PINGONE_TWILIO"):
            page.get_by_role("button", name=f"Remove {name}").click()
        page.get_by_role("button", name="Save the chain").click()
        page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('Fallback chain saved')")
    assert dev.api("GET", f"/v1/environments/{dev.env}/notificationsSettings").json()["smsProvidersFallbackChain"] == []


def test_a_wrong_custom_provider_field_shows_its_error_beside_it(dev: DevServer, tmp_path: Path) -> None:
    with console(dev, tmp_path, provoked=(CREATE_REFUSED,)) as page:
        go(page, dev, f"#/env/{dev.env}/senders/new/CUSTOM_PROVIDER", "New Custom HTTP gateway sender")
        page.get_by_label("Name", exact=True).fill("Console gateway")
        page.get_by_label("Bearer token").fill("gateway-token")
        page.get_by_label("HTTP method").select_option("GET")
        url = page.get_by_label("URL", exact=True)
        url.fill("https://gateway.example/sms?to=${to}")  # a GET without ${message}
        page.get_by_role("button", name="Create", exact=True).click()
        page.wait_for_function("() => document.activeElement.dataset.target === 'requests[0].url'")
        assert url.get_attribute("aria-invalid") == "true"
        error = page.locator("#" + url.get_attribute("aria-describedby").split()[-1])
        assert "${message}" in error.inner_text()
        # Only that field is marked; the others are not.
        assert page.locator("[aria-invalid=true]").count() == 1
        shot(page, tmp_path, "sender-error")
        url.fill("https://gateway.example/sms?to=${to}&text=${message}")  # edited: its error goes
        assert url.get_attribute("aria-invalid") is None and error.is_hidden()
        names = [s["name"] for s in dev.api("GET", dev.senders()).json()["_embedded"]["phoneDeliverySettings"]]
        assert "Console gateway" not in names  # nothing was created

        # Put right (the sandbox's gateway and OAuth2 endpoint), it is created.
        page.get_by_role("button", name="Fill in the sandbox account").click()
        page.get_by_role("button", name="Create", exact=True).click()
        page.get_by_role("heading", level=1, name="Console gateway").wait_for()
        sender_id = page.url.rsplit("/", 1)[-1]
        created = dev.api("GET", dev.senders(sender_id)).json()
        assert created["name"] == "Console gateway" and created["authentication"]["method"] == "OAUTH2"
        assert created["requests"][0]["url"].startswith(dev.creds["gatewayUrl"])
        dev.api("DELETE", dev.senders(sender_id))


def test_applications_rotate_a_secret_shown_once(dev: DevServer, tmp_path: Path) -> None:
    token_url = f"{dev.url}/{dev.env}/as/token"
    with console(dev, tmp_path) as page:
        go(page, dev, f"#/env/{dev.env}/applications", "Applications of Development")
        form = page.locator("form", has=page.get_by_role("heading", name="New worker application"))
        form.get_by_label("Name").fill("Console worker")
        form.get_by_role("button", name="Create application").click()
        first = page.locator(".secret-box input").input_value()
        card = page.locator("section[data-application]", has_text="Console worker")
        app_id = card.get_attribute("data-application")
        card.get_by_role("button", name="Grant role").click()
        card.locator(".roles li", has_text="ENVIRONMENT_ADMIN").wait_for()
        roles = dev.api("GET", f"/v1/environments/{dev.env}/applications/{app_id}/roleAssignments").json()
        assert [r["role"]["id"] for r in roles["_embedded"]["roleAssignments"]] == ["ENVIRONMENT_ADMIN"]
        assert httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=(app_id, first)).status_code == 200

        page.get_by_role("button", name="I have copied it").click()
        assert page.locator(".secret-box").is_hidden()
        card.get_by_role("button", name="Rotate secret").click()
        page.locator(".secret-box input").wait_for()
        second = page.locator(".secret-box input").input_value()
        assert second and second != first
        shot(page, tmp_path, "applications")
        old = httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=(app_id, first))
        new = httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=(app_id, second))
        assert (old.status_code, new.status_code) == (401, 200)
        page.get_by_role("button", name="I have copied it").click()
        assert second not in page.content()  # shown once: gone from the page
    dev.api("DELETE", f"/v1/environments/{dev.env}/applications/{app_id}")


def test_activities_filter_by_action_type(dev: DevServer, tmp_path: Path) -> None:
    made = dev.api(
        "POST",
        dev.senders(),
        json={
            "provider": "CUSTOM_TWILIO_VERIFY",
            "name": "Activity check",
            "sid": dev.creds["twilio"]["accountSid"],
            "authToken": dev.creds["twilio"]["authToken"],
            "verifyServiceId": dev.creds["twilio"]["verifyServiceId"],
        },
    )
    assert made.status_code == 201, made.text
    with console(dev, tmp_path) as page:
        go(page, dev, f"#/env/{dev.env}/activities", "Activities of Development")
        page.locator("#activities tbody tr", has_text="Activity check").first.wait_for()
        assert page.eval_on_selector_all("#activities tbody td:nth-child(2), #activities time", ONE_LINE) == []
        page.get_by_label("Action type").select_option("PHONE_DELIVERY_SETTINGS.CREATED")
        page.get_by_role("button", name="Apply filter").click()
        page.wait_for_function("() => location.hash.includes('actionType=PHONE_DELIVERY_SETTINGS.CREATED')")
        page.locator("#activities tbody tr", has_text="Activity check").wait_for()
        actions = page.locator("#activities tbody tr td:nth-child(2)").all_inner_texts()
        assert actions and set(actions) == {"PHONE_DELIVERY_SETTINGS.CREATED"}
        shot(page, tmp_path, "activities")
    dev.api("DELETE", dev.senders(made.json()["id"]))


def test_a_sender_in_the_chain_says_why_it_cannot_be_deleted(dev: DevServer, tmp_path: Path) -> None:
    made = dev.api(
        "POST",
        dev.senders(),
        json={
            "provider": "CUSTOM_TWILIO_VERIFY",
            "name": "Chained sender",
            "sid": dev.creds["twilio"]["accountSid"],
            "authToken": dev.creds["twilio"]["authToken"],
            "verifyServiceId": dev.creds["twilio"]["verifyServiceId"],
        },
    )
    assert made.status_code == 201, made.text
    sender_id = made.json()["id"]
    settings_path = f"/v1/environments/{dev.env}/notificationsSettings"
    settings = dev.api("GET", settings_path).json()
    kept = {k: settings[k] for k in ("deliveryMode", "whitelist", "from", "replyTo") if k in settings}
    assert dev.api("PUT", settings_path, json={**kept, "smsProvidersFallbackChain": [sender_id]}).status_code == 200
    try:
        with console(dev, tmp_path, provoked=(rf"400\b.*/phoneDeliverySettings/{sender_id}$",)) as page:
            go(page, dev, f"#/env/{dev.env}/senders", "Senders of Development")
            row = page.locator(f"tr[data-sender='{sender_id}']")
            # 1280 px: the actions cell lines up with its row; the next heading does not touch the table.
            edges = page.evaluate(
                """id => [...document.querySelectorAll(`tr[data-sender='${id}'] > *`)]
                   .map(cell => Math.round(cell.getBoundingClientRect().bottom))""",
                sender_id,
            )
            assert len(set(edges)) == 1, edges
            table = page.locator("table.list").bounding_box()
            heading = page.get_by_role("heading", name="Add a sender").bounding_box()
            assert heading["y"] - (table["y"] + table["height"]) >= 12
            row.get_by_role("button", name="Delete Chained sender").click()
            alert = page.locator("main [role=alert]", has_text="remove it from the chain first")
            alert.wait_for()
            assert "smsProvidersFallbackChain[0]" in alert.inner_text()
            assert "in use and cannot be deleted" in alert.inner_text()
            assert alert.get_by_role("link", name="Fallback chain").get_attribute("href") == f"#/env/{dev.env}/chain"
            assert "remove it from the chain" not in status_line(page)  # said once, in the alert
            assert row.is_visible()  # not deleted, so still listed
    finally:
        dev.api("PUT", settings_path, json={**kept, "smsProvidersFallbackChain": []})
        dev.api("DELETE", dev.senders(sender_id))


def test_markup_in_names_is_text_and_a_narrow_window_fits(dev: DevServer, tmp_path: Path) -> None:
    name = '<img src=x onerror="window.owned=1"><script>window.owned=2</script>'
    made = dev.api(
        "POST",
        dev.senders(),
        json={
            "provider": "CUSTOM_TWILIO_MESSAGING_SERVICE",
            "name": name,
            "sid": dev.creds["twilio"]["accountSid"],
            "authToken": dev.creds["twilio"]["authToken"],
        },
    )
    assert made.status_code == 201, made.text
    policies = f"/v1/environments/{dev.env}/notificationsPolicies"
    policy = dev.api("POST", policies, json={"name": name, "quotas": []})
    assert policy.status_code == 201, policy.text
    with console(dev, tmp_path, viewport={"width": 380, "height": 800}) as page:
        go(page, dev, f"#/env/{dev.env}/senders", "Senders of Development")
        page.locator(f"tr[data-sender='{made.json()['id']}']").wait_for()
        assert name in page.inner_text("main")
        assert page.evaluate("window.owned") is None
        assert page.locator("main img, main script").count() == 0
        # A policy so named: as text in the list, its page and its editor.
        go(page, dev, f"#/env/{dev.env}/policies", "Policies of Development")
        assert name in page.locator(f"tr[data-policy='{policy.json()['id']}']").inner_text()
        go(page, dev, f"#/env/{dev.env}/policies/{policy.json()['id']}", name)
        assert json.loads(page.get_by_label("Policy (JSON)").input_value())["name"] == name
        assert page.evaluate("window.owned") is None and page.locator("main img, main script").count() == 0
        for route, heading in (
            (f"#/env/{dev.env}/senders", "Senders of Development"),
            (f"#/env/{dev.env}/notifications", "Notifications of Development"),
            (f"#/env/{dev.env}/chain", "Fallback chain of Development"),
            (f"#/env/{dev.env}/policies", "Policies of Development"),
            (f"#/env/{dev.env}/policies/new", "New policy"),
        ):
            go(page, dev, route, heading)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), route
        go(page, dev, f"#/env/{dev.env}/senders", "Senders of Development")
        shot(page, tmp_path, "narrow")
    dev.api("DELETE", dev.senders(made.json()["id"]))
    dev.api("DELETE", f"{policies}/{policy.json()['id']}")


POLICY_REFUSED = r"400\b.*/notificationsPolicies$"  # the wrong country code, on purpose
SEND_REFUSED = r"400\b.*/notifications$"  # the British number the policy does not allow


def test_a_policy_edited_as_json_shows_its_errors_then_limits_the_sends(dev: DevServer, tmp_path: Path) -> None:
    policies = f"/v1/environments/{dev.env}/notificationsPolicies"
    made = dev.api(
        "POST",
        dev.senders(),
        json={
            "provider": "CUSTOM_TWILIO_VERIFY",
            "name": "Policy sender",
            "sid": dev.creds["twilio"]["accountSid"],
            "authToken": dev.creds["twilio"]["authToken"],
            "verifyServiceId": dev.creds["twilio"]["verifyServiceId"],
        },
    )
    assert made.status_code == 201, made.text
    sender_id = made.json()["id"]
    [former] = [p for p in dev.api("GET", policies).json()["_embedded"]["notificationsPolicies"] if p["default"]]
    off = {"enabled": False}
    body: dict[str, Any] = {
        "name": "US and Germany",
        "quotas": [{"type": "USER", "deliveryMethods": ["SMS"], "total": 5}],
        "countryLimit": {"type": "ALLOWED", "deliveryMethods": ["SMS", "Voice"], "countries": ["US", "DEU"]},
        "providerConfiguration": {
            "conditions": [
                {"deliveryMethods": ["SMS"], "countries": ["DE"], "fallbackChain": [{"id": sender_id}]},
                {"fallbackChain": [{"id": "PINGONE_TWILIO"}]},
            ]
        },
        "cooldownConfiguration": {
            "sms": {
                "enabled": True,
                "groupBy": "USER_ID",
                "resendLimit": 3,
                "periods": [
                    {"duration": 30, "timeUnit": "SECONDS"},
                    {"duration": 60, "timeUnit": "SECONDS"},
                    {"duration": 2, "timeUnit": "MINUTES"},
                ],
            },
            "voice": off,
            "email": off,
            "whatsApp": off,
        },
        "fraudProtection": {"numberHourlyCap": {"enabled": True, "limit": 5}},
    }
    policy_id = ""
    try:
        with console(dev, tmp_path, provoked=(POLICY_REFUSED, SEND_REFUSED)) as page:
            go(page, dev, f"#/env/{dev.env}/policies", "Policies of Development")
            page.get_by_role("link", name="Policies", exact=True).wait_for()  # in the navigation
            default_row = page.locator(f"tr[data-policy='{former['id']}']")
            assert default_row.locator("[data-default]").inner_text() == "Default"
            page.get_by_role("link", name="New policy").click()
            page.get_by_role("heading", level=1, name="New policy").wait_for()
            editor = page.get_by_label("Policy (JSON)")
            example = json.loads(editor.input_value())  # a sensible example to start from
            assert example["name"] and isinstance(example["quotas"], list) and example["countryLimit"]["countries"]

            # A country code the API refuses: its target and message next to the editor, once.
            editor.fill(json.dumps(body, indent=2))
            page.get_by_role("button", name="Create", exact=True).click()
            page.wait_for_function("() => document.activeElement.dataset.target === 'policy'")
            assert editor.get_attribute("aria-invalid") == "true"
            error = page.locator("#" + editor.get_attribute("aria-describedby").split()[-1])
            target = error.locator("[data-detail-target='countryLimit.countries[1]']")
            assert target.inner_text().startswith("countryLimit.countries[1]: Not an ISO 3166-1 alpha-2 country code")
            assert page.inner_text("body").count("countryLimit.countries[1]") == 1
            assert status_line(page) == ""
            names = [p["name"] for p in dev.api("GET", policies).json()["_embedded"]["notificationsPolicies"]]
            assert "US and Germany" not in names  # nothing was created

            # Put right, it is created; its page says what it does, senders by name.
            body["countryLimit"]["countries"] = ["US", "DE"]
            editor.fill(json.dumps(body, indent=2))
            assert error.is_hidden()  # edited: its error goes
            page.get_by_role("button", name="Create", exact=True).click()
            page.get_by_role("heading", level=1, name="US and Germany").wait_for()
            policy_id = page.url.rsplit("/", 1)[-1]
            assert re.fullmatch(r"[0-9a-f-]{36}", policy_id), page.url
            assert page.locator("#policy-countries").inner_text() == "SMS, Voice only to US, DE"
            assert page.locator("#policy-quotas").inner_text() == "quotas[0]: 5 SMS per user per day"
            routing = page.locator("#policy-routing li").all_inner_texts()
            assert routing == ["SMS to DE: Policy sender", "SMS, VOICE to any other country: PINGONE_TWILIO"]
            assert "30 s, then 60 s, then 2 min" in page.locator("#policy-cooldowns").inner_text()
            assert "At most 5 sends to one number per hour" in page.locator("#policy-fraud").inner_text()
            assert status_line(page) == "Policy US and Germany saved."
            shot(page, tmp_path, "policies")
            # Back goes to the list, not to the create form; the list has it, not as the default.
            page.go_back()
            page.get_by_role("heading", level=1, name="Policies of Development").wait_for()
            row = page.locator(f"tr[data-policy='{policy_id}']")
            assert "US and Germany" in row.inner_text() and row.locator("[data-default]").count() == 0
            assert "SMS, Voice only to US, DE" in row.inner_text()

            # Its use now: two sends of one user (to two numbers: the cooldown groups by user and number).
            for number in ("+14155550171", "+14155550172"):
                sent = dev.api(
                    "POST",
                    f"/v1/environments/{dev.env}/notifications",
                    json={
                        "deliveryMethod": "SMS",
                        "to": number,
                        "message": "Hi",
                        "user": {"id": "console-user"},
                        "policy": {"id": policy_id},
                    },
                )
                assert sent.status_code == 202, sent.text
            go(page, dev, f"#/env/{dev.env}/policies/{policy_id}", "US and Germany")
            used = page.locator("#policy-usage-quotas [data-quota='0']").inner_text()
            assert "2 used today by 1 user, 0 at the limit; most: console-user 2" in used, used
            assert page.locator("#policy-usage-blocks").inner_text() == "No block in force."
            usage = page.locator("#policy-usage")
            usage.get_by_label("Use of one user or number").fill("console-user")
            usage.get_by_role("button", name="Look up").click()
            answer = usage.get_by_role("status")
            answer.filter(has_text="left today").wait_for()
            assert answer.inner_text() == "console-user: quotas[0]: 2 used, 3 left today", answer.inner_text()
            usage.get_by_label("Use of one user or number").fill("+14155550171")
            usage.get_by_role("button", name="Look up").click()
            answer.filter(has_text="numberHourlyCap").wait_for()
            assert "this hour: 1 of 5 (numberHourlyCap)" in answer.inner_text(), answer.inner_text()
            page.go_back()
            page.get_by_role("heading", level=1, name="Policies of Development").wait_for()

            read = dev.api("GET", f"{policies}/{policy_id}").json()
            assert read["countryLimit"]["type"] == "ALLOWED" and read["countryLimit"]["countries"] == ["US", "DE"]
            assert read["providerConfiguration"]["conditions"][0]["fallbackChain"] == [{"id": sender_id}]
            assert read["default"] is False

            # The console's send form with that policy: a British number is refused, on `to`.
            british = f"+4474001{secrets.randbelow(100_000):05d}"
            go(page, dev, f"#/env/{dev.env}/notifications", "Notifications of Development")
            send = page.locator("form", has=page.get_by_role("heading", name="Send a message"))
            send.get_by_label("To", exact=True).fill(british)
            send.get_by_label("Policy").select_option(label="US and Germany")
            send.get_by_role("button", name="Send").click()
            to = send.get_by_label("To", exact=True)
            page.wait_for_function("() => document.activeElement.dataset.target === 'to'")
            said = page.locator("#" + to.get_attribute("aria-describedby").split()[-1]).inner_text()
            assert "United Kingdom (GB)" in said and "US and Germany" in said, said
            assert page.inner_text("body").count("United Kingdom (GB)") == 1
            # And through the API: 400 on `to`, nothing queued.
            refused = dev.api(
                "POST",
                f"/v1/environments/{dev.env}/notifications",
                json={"deliveryMethod": "SMS", "to": british, "message": "Hi", "policy": {"id": policy_id}},
            )
            assert refused.status_code == 400, refused.text
            assert [d["target"] for d in refused.json()["details"]] == ["to"]
            logged = dev.api("GET", f"/v1/environments/{dev.env}/notifications", params={"to": british}).json()
            assert logged["_embedded"]["notifications"] == []

            # Make default, then give the flag back to the former default, both from the console.
            go(page, dev, f"#/env/{dev.env}/policies/{policy_id}", "US and Germany")
            page.get_by_role("button", name="Make default").click()
            page.wait_for_function("() => document.querySelector('#status').textContent.includes('now the default')")
            assert dev.api("GET", f"{policies}/{policy_id}").json()["default"] is True
            assert page.get_by_role("button", name="Make default").count() == 0
            go(page, dev, f"#/env/{dev.env}/policies/{former['id']}", former["name"])
            page.get_by_role("button", name="Make default").click()
            page.wait_for_function("() => document.querySelector('#status').textContent.includes('now the default')")
            assert dev.api("GET", f"{policies}/{former['id']}").json()["default"] is True

            # Delete it (the dialog is accepted): gone from the list and from the API.
            go(page, dev, f"#/env/{dev.env}/policies/{policy_id}", "US and Germany")
            page.get_by_role("button", name="Delete US and Germany").click()
            page.get_by_role("heading", level=1, name="Policies of Development").wait_for()
            assert page.locator(f"tr[data-policy='{policy_id}']").count() == 0
            assert dev.api("GET", f"{policies}/{policy_id}").status_code == 404
            policy_id = ""
    finally:
        if policy_id:
            read_only = ("_links", "id", "environment", "createdAt", "updatedAt")
            kept = {k: v for k, v in former.items() if k not in read_only}
            dev.api("PUT", f"{policies}/{former['id']}", json={**kept, "default": True})
            dev.api("DELETE", f"{policies}/{policy_id}")
        dev.api("DELETE", dev.senders(sender_id))
