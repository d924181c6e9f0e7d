"""The console's routes: the page, its files, and dev mode's credentials."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from phone_delivery.console.dev_credentials import dev_credentials_response
from phone_delivery.console.static_files import static_files
from phone_delivery.settings import Settings

MOUNT = "/console"


def console_router(settings: Settings) -> APIRouter:
    """The routes under /console, with the settings they answer by (dev mode or not)."""
    router = APIRouter(include_in_schema=False)

    @router.get(MOUNT)
    async def without_slash(request: Request) -> Response:
        # The page's files are named relative to /console/.
        return RedirectResponse(request.scope.get("root_path", "") + MOUNT + "/", status_code=308)

    @router.get(MOUNT + "/")
    async def page(request: Request) -> Response:
        return static_files()["index.html"].response(request)

    @router.get(MOUNT + "/static/{name:path}")
    async def asset(request: Request, name: str) -> Response:
        found = static_files().get(name)
        if found is None:
            raise HTTPException(status_code=404)
        return found.response(request)

    @router.get(MOUNT + "/dev-credentials")
    async def dev_credentials(request: Request) -> Response:
        return dev_credentials_response(settings, request)

    return router
