"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from phone_delivery.api.deps import services
from phone_delivery.api.responses import JsonResponse

router = APIRouter(tags=["Operations"])


@router.get("/health/live", summary="The process is up")
async def live() -> Response:
    return JsonResponse({"status": "UP"})


@router.get("/health/ready", summary="The process can serve: the database answers")
async def ready(request: Request) -> Response:
    try:
        async with services(request).database.read() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return JsonResponse({"status": "DOWN", "database": "DOWN"}, status_code=503)
    return JsonResponse({"status": "UP", "database": "UP"})


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
