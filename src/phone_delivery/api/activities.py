"""``GET /v1/environments/{envID}/activities``: the audit trail, newest first, cursor paged."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from phone_delivery.api.deps import environment_admin, require_environment, services
from phone_delivery.api.links import base_url, environment_href
from phone_delivery.api.openapi_schemas import ACTIVITY, collection, error_responses
from phone_delivery.api.paging import decode_cursor, page_links
from phone_delivery.api.responses import JsonResponse
from phone_delivery.domain.clock import iso_ms
from phone_delivery.domain.models import Activity, Principal
from phone_delivery.store.activities_repo import ActivityRepository

router = APIRouter(tags=["Activities"])


def activity_json(base: str, a: Activity) -> dict[str, Any]:
    env_href = environment_href(base, a.environment_id)
    return {
        "_links": {"self": {"href": f"{env_href}/activities/{a.id}"}},
        "id": a.id,
        "recordedAt": iso_ms(a.recorded_at),
        "createdAt": iso_ms(a.recorded_at),
        "actors": {
            "client": {
                "id": a.actor_id,
                "name": a.actor_name,
                "type": a.actor_type,
                "environment": {"id": a.environment_id},
            }
        },
        "action": {"type": a.action_type, "description": a.description},
        "resources": [
            {
                "type": a.resource_type,
                "id": a.resource_id,
                "name": a.resource_name,
                "environment": {"id": a.environment_id},
            }
        ],
        "result": {"status": "SUCCESS", "description": a.description},
    }


@router.get(
    "/v1/environments/{envID}/activities", responses={200: collection("activities", ACTIVITY), **error_responses(404)}
)
async def list_activities(
    request: Request,
    envID: str,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = Query(None),
    actionType: str | None = Query(
        None, pattern=r"^[A-Z_.]{1,64}$", description="Only this action type, e.g. PHONE_DELIVERY_SETTINGS.CREATED"
    ),
    _: Principal = Depends(environment_admin),
) -> Response:
    svc = services(request)
    after = decode_cursor(cursor)
    async with svc.database.read() as conn:
        await require_environment(conn, envID)
        rows = await ActivityRepository(conn).list(envID, limit + 1, after, actionType)
    base = base_url(request)
    page = rows[:limit]
    links = page_links(request, limit, (page[-1].recorded_at, page[-1].id) if len(rows) > limit else None)
    return JsonResponse(
        {"_links": links, "_embedded": {"activities": [activity_json(base, a) for a in page]}, "size": len(page)}
    )
