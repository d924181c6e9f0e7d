"""One pure-ASGI middleware: request id, access log line and Prometheus metrics."""

from __future__ import annotations

import os
import time
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(logger_name="phone_delivery.access")


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "phone_delivery_http_requests", "HTTP requests served", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "phone_delivery_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        # Labelled children are looked up once per label set, not per request.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self._counters[(method, route, status)] = self.requests.labels(method, route, str(status))
        histogram = self._histograms.get((method, route))
        if histogram is None:
            histogram = self._histograms[(method, route)] = self.latency.labels(method, route)
        counter.inc()
        histogram.observe(seconds)


class ObservabilityMiddleware:
    """``quiet_prefixes``: paths counted in the metrics but not written to the access log (dev mode's
    sandbox, whose every Twilio call would otherwise double each send's lines)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, quiet_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.metrics = metrics
        self.quiet_prefixes = quiet_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        request_id = _header(scope, b"x-request-id") or os.urandom(16).hex()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.record(method, route, status, elapsed)
            if not (self.quiet_prefixes and scope["path"].startswith(self.quiet_prefixes)):
                log.info(
                    "http_request",
                    method=method,
                    route=route,
                    path=scope["path"],
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    request_id=request_id,
                )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            text: Any = value.decode("latin-1")[:100]
            return str(text)
    return None
