"""Prometheus metrics of an HTTP face: requests by route, method, status and reason, and latency.

`HttpMetricsMiddleware` wraps any ASGI app (the agent's HTTP face, the Atoms MCP). The route
label is the matched route's template (`/v1/chat/completions`, never the raw path); a request
answered before routing (an authentication middleware's refusal) is labelled with its path
when that path is one of the `known_paths` given, else `unmatched`, so a scan of random paths
cannot grow the label set. The reason is what the app
stored with `record_error_reason(scope, reason)` (an ErrorInfo-style reason), else empty.
The duration runs until the response has been sent, so a streamed answer counts whole.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from prometheus_client import Counter, Histogram

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HTTP_REQUESTS = Counter(
    "atoms_http_requests",
    "HTTP requests answered, by service, route template, method, status code and error reason.",
    ["service", "route", "method", "status", "reason"],
)
HTTP_LATENCY = Histogram(
    "atoms_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response (a stream counts whole).",
    ["service", "route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
UNMATCHED_ROUTE = "unmatched"
_REASON_KEY = "atoms_error_reason"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_MAX_REASON_CHARS = 64


def record_error_reason(scope: Scope, reason: str) -> None:
    """Name the reason of the error response the app is about to send (for the metrics)."""
    scope.setdefault("state", {})[_REASON_KEY] = reason[:_MAX_REASON_CHARS]


def error_reason_of(scope: Scope) -> str:
    """The reason the app recorded for its error response, or ""."""
    return str(scope.get("state", {}).get(_REASON_KEY, ""))


class HttpMetricsMiddleware:
    """Counts and times every HTTP request of the app it wraps (other ASGI traffic passes through)."""

    def __init__(self, app: AsgiApp, *, service: str, known_paths: Collection[str] = ()) -> None:
        self.app = app
        self.service = service
        self.known_paths = frozenset(known_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an app that fails before answering: the server answers 500
        scope.setdefault("state", {})

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, elapsed_s: float) -> None:
        template = getattr(scope.get("route"), "path", None)
        if not template:
            path = scope.get("path", "")
            template = path if path in self.known_paths else UNMATCHED_ROUTE
        method = scope.get("method", "")
        method = method if method in _METHODS else "OTHER"
        reason = error_reason_of(scope)
        HTTP_REQUESTS.labels(self.service, template, method, str(status), reason).inc()
        HTTP_LATENCY.labels(self.service, template, method).observe(elapsed_s)
