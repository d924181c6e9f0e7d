"""``create_app(settings)``: the ASGI application. The lifespan owns database, HTTP client and keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp

from phone_delivery import __version__
from phone_delivery.api import (
    activities,
    applications,
    auth,
    callbacks,
    environments,
    health,
    landing,
    notification_policies,
    notification_settings,
    notifications,
    openapi_document,
    phone_delivery_settings,
)
from phone_delivery.api.errors import install_error_handlers
from phone_delivery.api.fast_path import FastPathApp
from phone_delivery.api.observability import HttpMetrics, ObservabilityMiddleware
from phone_delivery.console import console_router
from phone_delivery.providers.address_guard import AddressGuard
from phone_delivery.runtime import build_services
from phone_delivery.sandbox.app import create_sandbox_app
from phone_delivery.sandbox.state import SandboxState
from phone_delivery.settings import Settings
from phone_delivery.shutdown_signals import stop_on_exit_signals
from phone_delivery.worker.worker_process import WorkerProcess

SANDBOX_MOUNT = "/sandbox"


def create_app(
    settings: Settings,
    sandbox: SandboxState | None = None,
    address_guard: AddressGuard | None = None,
    worker_environment: Mapping[str, str] | None = None,
) -> ASGIApp:
    """The service. With ``sandbox`` the Twilio stand-in is mounted under /sandbox (dev mode);
    ``address_guard`` replaces the settings' one (tests inject a resolver). With
    ``worker_environment`` (and ``settings.worker_enabled``) the delivery worker runs in a process of
    its own with that environment, started, woken and stopped by this app's lifespan
    (worker/worker_process.py); without it, on this app's event loop."""

    registry = CollectorRegistry()
    worker_process = (
        WorkerProcess(dict(worker_environment), settings.shutdown_seconds, registry)
        if worker_environment is not None and settings.worker_enabled
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = app.state.services = await build_services(settings, sandbox, registry, address_guard, worker_process)
        worker = None
        if worker_process is not None:
            await worker_process.start()
            restore_signals = stop_on_exit_signals(worker_process.stop)
        elif settings.worker_enabled:
            worker = asyncio.create_task(services.worker.run())
            restore_signals = stop_on_exit_signals(services.worker.stop)
        else:
            restore_signals = None
        try:
            yield
        finally:
            if restore_signals is not None:
                restore_signals()
            if worker_process is not None:
                await worker_process.wait()
            if worker is not None:
                services.worker.stop()
                await worker
            await services.close()

    app = FastAPIOffline(  # a FastAPI whose /docs loads Swagger UI from the package, never a CDN
        title="phone-delivery",
        version=__version__,
        description="PingOne Notifications Phone Delivery Settings API, self-hosted. "
        "Management paths match PingOne's; see the README for what is an extension.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        static_url="/docs/static",
    )
    app.state.metrics_registry = registry
    app.state.worker_process = worker_process
    install_error_handlers(app)
    openapi_document.install(app)
    modules = (
        auth,
        environments,
        applications,
        phone_delivery_settings,
        notification_settings,
        notification_policies,
        notifications,
        activities,
        callbacks,
        health,
    )
    for module in modules:
        app.include_router(module.router)
    # Every API route, for the Allow header of a 405 (api/errors.py).
    app.state.api_routes = [route for module in modules for route in module.router.routes]
    app.include_router(landing.router)
    app.include_router(console_router(settings))
    app.state.sandbox_inbox_path = f"{SANDBOX_MOUNT}/inbox" if sandbox is not None else None
    if sandbox is not None:
        app.mount(SANDBOX_MOUNT, create_sandbox_app(sandbox))
    # Outermost: access log and metrics for everything; then the hot paths; then FastAPI.
    quiet = (SANDBOX_MOUNT + "/",) if sandbox is not None and not settings.log_sandbox_traffic else ()
    return ObservabilityMiddleware(
        FastPathApp(app, [*phone_delivery_settings.hot_routes(), *notifications.hot_routes(), *auth.hot_routes()]),
        HttpMetrics(registry),
        quiet,
    )


def app_from_environment() -> ASGIApp:
    """The service configured by environment variables alone: what each process of
    ``phone-delivery serve --workers N`` builds."""
    from phone_delivery.logging_setup import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
