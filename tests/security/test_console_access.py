"""The console is no back door: dev mode's credentials go only to this machine in dev mode (else the
service's plain 404), and only the fields the console's scripts read; its pages carry a strict
Content-Security-Policy, only its own files are served, and its scripts never turn text into markup
nor load anything from another origin."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from phone_delivery.app import create_app
from phone_delivery.devmode import credentials_path, prepare
from phone_delivery.sandbox.state import SandboxState
from phone_delivery.settings import Settings

DEV_CREDENTIALS = "/console/dev-credentials"
STATIC = resources.files("phone_delivery.console") / "static"


@pytest.fixture(scope="module")
def dev_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a dev-mode service whose data directory holds the credentials dev mode wrote."""
    data_dir = tmp_path_factory.mktemp("console-dev-credentials")
    settings = Settings(data_dir=data_dir, dev_mode=True, worker_enabled=False)
    asyncio.run(prepare(settings, "http://127.0.0.1:8000", SandboxState()))
    return settings


def call(
    settings: Settings, path: str, client: tuple[str, int] = ("127.0.0.1", 50000), **kwargs: Any
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings), client=client)
        base = kwargs.pop("base", "http://127.0.0.1:8000")
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            return await http.get(path, **kwargs)

    return asyncio.run(go())


def assert_plain_404(response: httpx.Response, secret: str) -> None:
    assert response.status_code == 404, response.text
    body = response.json()
    assert body["code"] == "NOT_FOUND" and body["message"] == "The requested resource was not found."
    assert secret not in response.text


def written(settings: Settings) -> dict[str, Any]:
    return dict(json.loads(credentials_path(settings).read_text()))


def test_dev_mode_gives_this_machine_its_credentials(dev_settings: Settings) -> None:
    for client, base in (
        (("127.0.0.1", 50000), "http://127.0.0.1:8000"),
        (("127.0.0.1", 50000), "http://localhost:8000"),
        (("::1", 50000), "http://[::1]:8000"),
    ):
        answer = call(dev_settings, DEV_CREDENTIALS, client, base=base)
        assert answer.status_code == 200, (client, base, answer.text)
        file = written(dev_settings)
        assert answer.json()["clientSecret"] == file["clientSecret"]
        assert answer.json()["twilio"]["authToken"] == file["twilio"]["authToken"]
        assert answer.headers["cache-control"] == "no-store"


# Every field of dev-credentials.json that static/js reads, and nothing else.
CONSOLE_READS = {
    "adminEnvironmentId",
    "clientId",
    "clientSecret",
    "twilio.accountSid",
    "twilio.authToken",
    "twilio.verifyServiceId",
    "syniverse.authToken",
    "oauth.tokenUrl",
    "oauth.clientId",
    "oauth.clientSecret",
    "gatewayUrl",
    "sandboxBase",
}


def leaves(data: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in data.items():
        found |= leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"}
    return found


def test_only_what_the_console_reads_is_given(dev_settings: Settings) -> None:
    answer = call(dev_settings, DEV_CREDENTIALS).json()
    assert leaves(answer) == CONSOLE_READS
    unused = leaves(written(dev_settings)) - CONSOLE_READS
    # The file has more (the dev environment's id, URLs, the Messaging Services' list...): not sent.
    assert {"environmentId", "tokenUrl", "apiBase", "apiPath", "twilio.messagingServices"} <= unused


def test_the_console_reads_every_field_it_is_given() -> None:
    """Each given field is named in the scripts (a path like ['twilio', 'accountSid'] or dev.oauth.tokenUrl)."""
    scripts = "\n".join((STATIC / name).read_text() for name in static_names() if name.endswith(".js"))
    for name in CONSOLE_READS:
        parts = name.split(".")
        as_path = "[" + ", ".join(f"'{p}'" for p in parts) + "]"
        assert f"dev.{name}" in scripts or as_path in scripts, name


def test_not_served_outside_dev_mode(dev_settings: Settings) -> None:
    served = dev_settings.model_copy(update={"dev_mode": False})  # the very same data directory and file
    secret = written(dev_settings)["clientSecret"]
    assert credentials_path(served).exists()
    assert_plain_404(call(served, DEV_CREDENTIALS), secret)
    # Exactly what a path that does not exist gets.
    assert call(served, DEV_CREDENTIALS).json().keys() == call(served, "/console/no-such-thing").json().keys()


@pytest.mark.parametrize(
    "client", [("10.0.0.5", 1234), ("192.168.1.20", 1234), ("203.0.113.9", 1234), ("::ffff:10.0.0.5", 1234)]
)
def test_not_served_to_other_clients(dev_settings: Settings, client: tuple[str, int]) -> None:
    assert_plain_404(call(dev_settings, DEV_CREDENTIALS, client), written(dev_settings)["clientSecret"])


def test_not_served_to_a_page_of_another_site(dev_settings: Settings) -> None:
    secret = written(dev_settings)["clientSecret"]
    # DNS rebinding: a loopback connection, but the browser names another site's host.
    assert_plain_404(call(dev_settings, DEV_CREDENTIALS, base="http://attacker.example:8000"), secret)
    # A fetch that the browser marks as sent by another site.
    assert_plain_404(call(dev_settings, DEV_CREDENTIALS, headers={"Sec-Fetch-Site": "cross-site"}), secret)


def test_a_missing_file_is_a_404_too(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, dev_mode=True, worker_enabled=False)
    assert_plain_404(call(settings, DEV_CREDENTIALS), "clientSecret")


def static_names() -> list[str]:
    def walk(folder: Any, prefix: str) -> Iterator[str]:
        for entry in folder.iterdir():
            if entry.is_dir():
                yield from walk(entry, f"{prefix}{entry.name}/")
            else:
                yield f"{prefix}{entry.name}"

    return sorted(walk(STATIC, ""))


def test_every_console_response_has_a_strict_policy(dev_settings: Settings) -> None:
    paths = ["/console/", *(f"/console/static/{name}" for name in static_names() if name != "index.html")]
    assert len(paths) > 10
    for path in paths:
        answer = call(dev_settings, path)
        assert answer.status_code == 200, path
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self';" in policy and "connect-src 'self';" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
    redirect = call(dev_settings, "/console")
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/console/")


def test_the_page_has_no_inline_script_or_style() -> None:
    page = (STATIC / "index.html").read_text()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all(" src=" in tag for tag in scripts)
    assert re.search(r"<script\b[^>]*>\s*[^<\s]", page) is None  # no body in any script element
    assert "<style" not in page and " style=" not in page and re.search(r" on[a-z]+=", page) is None


def test_only_the_packages_files_are_served(dev_settings: Settings) -> None:
    for path in (
        "/console/static/%2e%2e/router.py",
        "/console/static/..%2fdev_credentials.py",
        "/console/static/js/%2e%2e/%2e%2e/__init__.py",
        "/console/static/%2Fetc%2Fpasswd",
        "/console/static/js",
        "/console/static/",
    ):
        answer = call(dev_settings, path)
        assert answer.status_code == 404, (path, answer.text[:200])
        assert "import" not in answer.text


def test_scripts_never_write_markup_nor_reach_another_origin() -> None:
    for name in static_names():
        # An SVG's namespace is a name, never fetched.
        text = (STATIC / name).read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert re.search(r"https?://", text) is None, name  # nothing from a CDN or any other host
        code = re.sub(r"/\*.*?\*/", "", re.sub(r"(^|\s)//.*$", "", text, flags=re.M), flags=re.S)  # comments aside
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert forbidden not in code, (name, forbidden)
        for storage in ("localStorage", "sessionStorage", "indexedDB", "document.cookie"):
            assert storage not in code, (name, storage)  # the token stays in memory
