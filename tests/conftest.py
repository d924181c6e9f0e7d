"""Shared fixtures: a sandbox over real HTTP, and the service on SQLite and PostgreSQL.

PostgreSQL is used when reachable at PHONE_DELIVERY_TEST_POSTGRES (default the local server);
under CI=true it must be reachable, so CI can never silently skip it.
"""

from __future__ import annotations

import asyncio
import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from phone_delivery.app import create_app
from phone_delivery.logging_setup import configure_logging
from phone_delivery.sandbox.app import create_sandbox_app
from phone_delivery.sandbox.state import SandboxState
from phone_delivery.settings import Settings
from tests.support import Api, Credentials, LiveServer, SandboxAdmin, bootstrap, free_port, settings_for

POSTGRES_ADMIN_URL = os.environ.get("PHONE_DELIVERY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
LOG_STREAM = io.StringIO()


def pytest_configure(config: pytest.Config) -> None:
    configure_logging("DEBUG", "json", stream=LOG_STREAM)


def captured_logs() -> str:
    return LOG_STREAM.getvalue()


async def _pg_exec(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def postgres_available() -> bool:
    try:
        asyncio.run(_pg_exec(POSTGRES_ADMIN_URL, "SELECT 1"))
    except Exception:  # any failure to connect means PostgreSQL is not here
        return False
    return True


def require_postgres() -> None:
    """Skip the calling test without PostgreSQL; under CI=true, fail it instead."""
    if not postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run on PostgreSQL but {POSTGRES_ADMIN_URL} is not reachable")
        pytest.skip("PostgreSQL is not reachable")


@dataclass
class PostgresDatabase:
    name: str
    url: str  # SQLAlchemy async URL
    dsn: str  # asyncpg DSN


def make_postgres_database() -> PostgresDatabase:
    name = "pd_test_" + uuid.uuid4().hex[:12]
    asyncio.run(_pg_exec(POSTGRES_ADMIN_URL, f'CREATE DATABASE "{name}"'))
    dsn = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    return PostgresDatabase(name, dsn.replace("postgresql://", "postgresql+asyncpg://", 1), dsn)


def drop_postgres_database(db: PostgresDatabase) -> None:
    asyncio.run(_pg_exec(POSTGRES_ADMIN_URL, f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxAdmin]:
    server = LiveServer(create_sandbox_app(SandboxState())).start()
    yield SandboxAdmin(server.url)
    server.stop()


@dataclass
class Stack:
    backend: str
    settings: Settings
    server: LiveServer
    admin: Credentials
    database_url: str
    pg: PostgresDatabase | None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def platform_account(self) -> str:
        return str(self.settings.platform_twilio_account_sid)

    def api(self, creds: Credentials | None = None) -> Api:
        return Api(self.url, creds or self.admin)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a SQLite file, a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    require_postgres()
    db = make_postgres_database()
    try:
        yield db.url
    finally:
        drop_postgres_database(db)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def stack(
    request: pytest.FixtureRequest, sandbox: SandboxAdmin, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    backend: str = request.param
    data_dir: Path = tmp_path_factory.mktemp(f"data-{backend}")
    pg = None
    if backend == "postgresql":
        require_postgres()
        pg = make_postgres_database()
        url = pg.url
    else:
        url = f"sqlite+aiosqlite:///{data_dir / 'phone-delivery.db'}"
    platform = sandbox.http.post(
        "/_admin/accounts",
        json={"messagingServices": ["Platform service"], "numbers": [{"phoneNumber": "+15005550100"}]},
    ).json()
    port = free_port()
    settings = settings_for(
        data_dir,
        url,
        sandbox,
        public_base_url=f"http://127.0.0.1:{port}",
        platform_twilio_account_sid=platform["accountSid"],
        platform_twilio_auth_token=platform["authToken"],
        platform_twilio_messaging_service_sid=platform["messagingServices"][0]["sid"],
        platform_twilio_from_number="+15005550100",
    )
    admin = bootstrap(settings)
    server = LiveServer(create_app(settings), port=port).start()
    try:
        yield Stack(backend, settings, server, admin, url, pg)
    finally:
        server.stop()
        if pg is not None:
            drop_postgres_database(pg)


@pytest.fixture(scope="session")
def admin_api(stack: Stack) -> Api:
    return stack.api()


@pytest.fixture
def env(admin_api: Api) -> str:
    return admin_api.new_environment(f"env-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def account(sandbox: SandboxAdmin) -> dict[str, object]:
    return sandbox.account(services=3)
