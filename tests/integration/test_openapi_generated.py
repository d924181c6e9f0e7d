"""schemathesis against our own /openapi.json: generated requests (valid and invalid, from the
description alone) to every operation, on SQLite and PostgreSQL. Nothing answers 5xx, every answer
is one the description declares (status, content type, headers, body schema), invalid data is
refused, and a call without a token is refused where one is needed.

Bounded and seeded: the same requests on every run (about 1,500 per backend, most of them
schemathesis's coverage phase: every method on every path, boundary values, wrong types).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from phone_delivery.app import create_app
from phone_delivery.settings import Settings
from tests.conftest import Stack
from tests.support import Api

EXAMPLES_PER_OPERATION = 5
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
]
SENT: dict[str, int] = {}


@pytest.fixture(scope="session")
def generated_env(admin_api: Api) -> str:
    """The environment generated requests act on (deleting it is left to random ids)."""
    return admin_api.new_environment("generated requests")


async def _served_document() -> dict[str, Any]:
    """/openapi.json as the service serves it (no lifespan needed: it is built from the routes)."""
    app = create_app(Settings(data_dir=Path(tempfile.mkdtemp(prefix="pd-openapi-"))))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://openapi") as client:
        return dict((await client.get("/openapi.json")).json())


# Loaded once at import, so that schemathesis parametrizes the test in its plain (not lazy) mode.
DOCUMENT = asyncio.run(_served_document())
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_running_service_serves_this_description(stack: Stack) -> None:
    assert httpx.get(f"{stack.url}/openapi.json").json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_conform(case: Any, stack: Stack, admin_api: Api, generated_env: str) -> None:
    path_parameters = case.path_parameters or {}
    if "envID" in path_parameters and not (case.method == "DELETE" and case.path == "/v1/environments/{envID}"):
        path_parameters["envID"] = generated_env  # act inside a real environment, not only on 404s
    response = case.call(base_url=stack.url, headers={"Authorization": f"Bearer {admin_api.token}"})
    SENT[stack.backend] = SENT.get(stack.backend, 0) + 1
    case.validate_response(response, checks=CHECKS)


def test_enough_generated_requests_were_sent(stack: Stack) -> None:
    assert SENT.get(stack.backend, 0) >= 150, SENT
