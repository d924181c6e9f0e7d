"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from phone_delivery.api.deps import services
from phone_delivery.api.openapi_schemas import HEALTH, ok
from phone_delivery.api.responses import JsonResponse
from phone_delivery.domain.errors import ServiceUnavailable

router = APIRouter(tags=["Operations"])


@router.get("/health/live", summary="The process is up", responses={200: ok(HEALTH)})
async def live() -> Response:
    return JsonResponse({"status": "UP"})


@router.get(
    "/health/ready",
    summary="The process can serve: the database answers reads, and writes (when the last one failed, a probe write)",
    responses={200: ok(HEALTH), 503: ok(HEALTH, "Not ready: the database or its writes fail")},
)
async def ready(request: Request) -> Response:
    database = services(request).database
    try:
        async with database.read() as conn:
            await conn.execute(text("SELECT 1"))
    except ServiceUnavailable:
        return JsonResponse({"status": "DOWN", "database": "DOWN", "writes": "DOWN"}, status_code=503)
    if database.writes_failing is not None:
        try:
            await database.probe_write()  # so readiness comes back by itself once writes work again
        except ServiceUnavailable:
            body = {"status": "DOWN", "database": "UP", "writes": "DOWN", "reason": database.writes_failing}
            return JsonResponse(body, status_code=503)
    return JsonResponse({"status": "UP", "database": "UP", "writes": "UP"})


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> Response:
    text = generate_latest(request.app.state.metrics_registry)
    worker_process = request.app.state.worker_process
    if worker_process is not None:  # the delivery worker's own process: its metrics follow this one's
        text += await worker_process.metrics()
    return Response(text, media_type=CONTENT_TYPE_LATEST)
