"""The sandbox as one ASGI application."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from phone_delivery.sandbox.admin import admin_routes
from phone_delivery.sandbox.admin_access import AdminAccess, AdminGuard
from phone_delivery.sandbox.dev_state import DevSandboxState
from phone_delivery.sandbox.gateway import gateway_routes
from phone_delivery.sandbox.inbox_api import inbox_api_routes
from phone_delivery.sandbox.inbox_page import inbox_page_routes
from phone_delivery.sandbox.state import SandboxState
from phone_delivery.sandbox.syniverse_api import syniverse_routes
from phone_delivery.sandbox.twilio_account_api import account_routes, messaging_service_routes
from phone_delivery.sandbox.twilio_http import twilio_error
from phone_delivery.sandbox.twilio_messages import CallbackSender, message_routes
from phone_delivery.sandbox.twilio_verify import verify_routes

TWILIO_API_PREFIX = "/twilio-api"
TWILIO_MESSAGING_PREFIX = "/twilio-messaging"
TWILIO_VERIFY_PREFIX = "/twilio-verify"
SYNIVERSE_PREFIX = "/syniverse"


def provider_base_urls(sandbox_base: str) -> dict[str, str]:
    """The settings that point every provider at this sandbox."""
    return {
        "twilio_api_base_url": sandbox_base + TWILIO_API_PREFIX,
        "twilio_messaging_base_url": sandbox_base + TWILIO_MESSAGING_PREFIX,
        "twilio_verify_base_url": sandbox_base + TWILIO_VERIFY_PREFIX,
        "syniverse_base_url": sandbox_base + SYNIVERSE_PREFIX,
    }


def create_sandbox_app(state: SandboxState, access: AdminAccess | None = None) -> Starlette:
    """The sandbox. ``/_admin`` and ``/inbox`` answer as ``access`` allows (``admin_access.py``): by
    default loopback clients, and others with the admin credentials of a ``DevSandboxState``."""
    callbacks = CallbackSender()
    if access is None:
        access = AdminAccess(state.admin_credentials if isinstance(state, DevSandboxState) else None)
    guarded = [Middleware(AdminGuard, access=access)]

    async def index(request: Request) -> JSONResponse:
        base = str(request.url).rstrip("/")
        return JSONResponse(
            {
                "sandbox": "phone-delivery",
                "admin": base + "/_admin",
                **{k.removesuffix("_url"): v for k, v in provider_base_urls(base).items()},
                "oauthTokenUrl": base + "/oauth/token",
                "gateway": base + "/gateway/",
                "inbox": base + "/inbox",
            }
        )

    async def not_found(request: Request, __: Exception) -> JSONResponse:
        return twilio_error(404, 20404, value=request.url.path)

    return Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            *inbox_page_routes(state, guarded),
            Mount("/_admin", routes=inbox_api_routes(state) + admin_routes(state), middleware=guarded),
            Mount(TWILIO_MESSAGING_PREFIX, routes=messaging_service_routes(state)),
            Mount(TWILIO_API_PREFIX, routes=account_routes(state) + message_routes(state, callbacks)),
            Mount(TWILIO_VERIFY_PREFIX, routes=verify_routes(state)),
            Mount(SYNIVERSE_PREFIX, routes=syniverse_routes(state)),
            *gateway_routes(state),
        ],
        exception_handlers={404: not_found},
    )
