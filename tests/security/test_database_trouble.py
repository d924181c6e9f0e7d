"""Hole 11: when the database cannot take writes (its disk is full), every write answers 503 with a
PingOne body and a clear message, nothing half-written survives, /health/ready reports not ready,
and both come back by themselves once writes work again.

SQLite: the service's data folder is a real 8 MiB tmpfs, filled with a ballast file. PostgreSQL: a
trigger raises SQLSTATE 53100 (disk_full), exactly what a full PostgreSQL disk raises, on the
tables these writes touch (the private test database only).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import Stack
from tests.security.conftest import OwnService, own_service
from tests.support import SandboxAdmin, assert_pingone_error

FULL_DISK_TABLES = ("environments", "notifications", "alembic_version")


@contextlib.contextmanager
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MiB filesystem (tmpfs; mounting needs root, which CI has)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must be able to mount a tmpfs for the disk-full test: {mounted.stderr!r}")
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    ballast = disk / "ballast"
    with ballast.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    return ballast


async def _pg(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1), timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def disk_full_triggers(service: OwnService) -> Callable[[], None]:
    function = """CREATE FUNCTION pd_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$"""
    asyncio.run(_pg(service.database_url, function))
    for table in FULL_DISK_TABLES:
        asyncio.run(
            _pg(
                service.database_url,
                f"CREATE TRIGGER pd_test_disk_full BEFORE INSERT OR UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pd_test_disk_full()",
            )
        )

    def free() -> None:
        for table in FULL_DISK_TABLES:
            asyncio.run(_pg(service.database_url, f"DROP TRIGGER pd_test_disk_full ON {table}"))

    return free


def test_a_full_disk_is_503_not_ready_and_recovers(stack: Stack, sandbox: SandboxAdmin, tmp_path: Path) -> None:
    if stack.backend == "sqlite":
        disk_context: contextlib.AbstractContextManager[Path] = small_disk(tmp_path)
    else:
        disk_context = contextlib.nullcontext(tmp_path)
    # The send below must get as far as the outbox: PINGONE_TWILIO has to be able to deliver it.
    platform = {k: v for k, v in stack.settings.model_dump().items() if k.startswith("platform_twilio_")}
    with disk_context as data_dir, own_service(stack, sandbox, data_dir, **platform) as service:
        api = service.api()
        env = api.new_environment("before")
        before = api.get("/v1/environments").json()["count"]
        assert httpx.get(f"{service.url}/health/ready").status_code == 200

        if stack.backend == "sqlite":
            ballast = fill(data_dir)
            free = ballast.unlink
        else:
            free = disk_full_triggers(service)

        refused = [
            api.post("/v1/environments", json={"name": "during"}),
            api.post(
                f"/v1/environments/{env}/notifications",
                json={"deliveryMethod": "SMS", "to": "+14155552671", "message": "x"},
            ),
        ]
        for response in refused:
            body = assert_pingone_error(response, 503, "REQUEST_FAILED")
            assert "full" in body["message"] and body["details"][0]["code"] == "SERVICE_UNAVAILABLE", body
            assert response.headers["Retry-After"]
            assert "Traceback" not in response.text
        ready = httpx.get(f"{service.url}/health/ready")
        assert ready.status_code == 503 and ready.json()["writes"] == "DOWN", ready.text
        assert api.get("/v1/environments").status_code == 200  # reads still work

        free()
        ready = httpx.get(f"{service.url}/health/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "UP", ready.text
        assert api.post("/v1/environments", json={"name": "after"}).status_code == 201
        names = [e["name"] for e in api.get("/v1/environments").json()["_embedded"]["environments"]]
        assert "during" not in names and len(names) == before + 1  # nothing half-written
