"""Fixtures of the attack tests: a service of its own, on the same database backend as ``stack``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from phone_delivery.app import create_app
from phone_delivery.providers.address_guard import AddressGuard
from phone_delivery.settings import Settings
from tests.conftest import Stack, drop_postgres_database, make_postgres_database
from tests.support import Api, Credentials, LiveServer, SandboxAdmin, bootstrap, serving, settings_for


@dataclass
class OwnService:
    """A service with its own database (same backend as the session's stack) and its one admin."""

    settings: Settings
    server: LiveServer
    admin: Credentials
    database_url: str

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, creds: Credentials | None = None) -> Api:
        return Api(self.url, creds or self.admin)


@contextmanager
def own_service(
    stack: Stack, sandbox: SandboxAdmin, data_dir: Path, address_guard: AddressGuard | None = None, **extra: Any
) -> Iterator[OwnService]:
    """For tests that would damage the shared stack (its last Organization Admin, its keys) or that
    need settings of their own; ``address_guard`` replaces the settings' one (an injected resolver)."""
    pg = make_postgres_database() if stack.backend == "postgresql" else None
    url = pg.url if pg is not None else f"sqlite+aiosqlite:///{data_dir / 'phone-delivery.db'}"
    settings = settings_for(data_dir, url, sandbox, **extra)
    try:
        admin = bootstrap(settings)
        with serving(create_app(settings, address_guard=address_guard)) as server:
            yield OwnService(settings, server, admin, url)
    finally:
        if pg is not None:
            drop_postgres_database(pg)


@contextmanager
def restarted(service: OwnService, address_guard: AddressGuard | None = None) -> Iterator[OwnService]:
    """The same database and settings served by a new process-like instance (fresh pools and caches)."""
    with serving(create_app(service.settings, address_guard=address_guard)) as server:
        yield OwnService(service.settings, server, service.admin, service.database_url)


@pytest.fixture
def fresh(stack: Stack, sandbox: SandboxAdmin, tmp_path: Path) -> Iterator[OwnService]:
    with own_service(stack, sandbox, tmp_path) as service:
        yield service
