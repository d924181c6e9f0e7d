"""The hottest read paths, served in front of FastAPI.

FastAPI's per-request machinery (its middleware stack, router and dependency solving) costs more
than the whole sender read. Routes listed here are matched first and answered directly; their
errors go through the same error table (``api/errors.py``); every other request, and the lifespan,
go to FastAPI, where the same operations are declared for /docs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from phone_delivery.api.errors import (
    domain_error_response,
    missing_key_response,
    provider_rejected_response,
    provider_unavailable_response,
    unexpected_error_response,
)
from phone_delivery.domain.errors import DomainError, ProviderRejected, ProviderUnavailable
from phone_delivery.store.crypto import KeyringError

Handler = Callable[[Request], Awaitable[Response]]


def get_route(path: str, endpoint: Handler) -> Route:
    """A GET hot route that, like the FastAPI declaration it stands in front of, does not answer
    HEAD (Starlette adds HEAD to every GET route)."""
    route = Route(path, endpoint, methods=["GET"])
    assert route.methods is not None
    route.methods.discard("HEAD")
    return route


class FastPathApp:
    def __init__(self, app: FastAPI, routes: list[Route]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child)
                    scope["app"] = self.app
                    scope["route"] = route
                    await self._answer(route, Request(scope, receive), send)
                    return
        await self.app(scope, receive, send)

    async def _answer(self, route: Route, request: Request, send: Send) -> None:
        handler: Handler = route.endpoint
        try:
            response = await handler(request)
        except DomainError as exc:
            response = domain_error_response(exc)
        except ProviderUnavailable as exc:  # expand=twilioverifytemplates reads Twilio live
            response = provider_unavailable_response(exc)
        except ProviderRejected as exc:
            response = provider_rejected_response(exc)
        except KeyringError as exc:
            response = missing_key_response(exc)
        except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a 500 body here
            response = unexpected_error_response(exc)
        await response(request.scope, request.receive, send)
