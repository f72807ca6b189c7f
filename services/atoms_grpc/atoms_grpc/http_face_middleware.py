"""HttpFaceMiddleware: what the kit adds to every request of an HTTP face.

The HTTP counterpart of the gRPC interceptor chain, for the agent's HTTP face and the Atoms
MCP, in one pass over the request:
- a request id: the caller's `x-request-id` when it is well formed (the agent sends the one its
  own caller gave), else a new one; every log line written while the request is handled carries
  it (`request_id` of the JSON line), and the response echoes it;
- the metrics of `http_metrics` (requests by route, method, status and reason; latency);
- one access line when the response has been sent: method, route, status, reason and duration
  (health and readiness probes at DEBUG, within a line budget per route and status);
- with tracing on, the request's SERVER span (opened outside, by OpenTelemetry's ASGI
  middleware) is named after the matched route and carries the request id and reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from atoms_grpc.http_metrics import Scope, error_reason_of, record_http_request, route_of
from atoms_grpc.line_budget import DEFAULT_BURST, DEFAULT_LINES_PER_S, LineBudget
from atoms_grpc.request_context import request_id_var
from atoms_grpc.request_id_interceptor import (
    _ACCEPTABLE_REQUEST_ID,
    REQUEST_ID_METADATA_KEY,
    RequestIdGenerator,
)
from atoms_grpc.tracing import ERROR_REASON, REQUEST_ID, name_server_span, tracing_enabled

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("atoms_grpc.http_access")

_HEADER = REQUEST_ID_METADATA_KEY.encode("ascii")
_QUIET_ROUTES = frozenset({"/health", "/ready"})


class HttpFaceMiddleware:
    """Request id, metrics and access line for every HTTP request of the app it wraps.

    Place it outermost, so that every log line of the request carries the id and the
    responses of other middleware (an authentication refusal) are counted too.
    """

    def __init__(
        self,
        app: AsgiApp,
        *,
        service: str,
        known_paths: Collection[str] = (),
        lines_per_s: float = DEFAULT_LINES_PER_S,
        burst: int = DEFAULT_BURST,
    ) -> None:
        """Args:
        app: the ASGI app.
        service: the `service` label of the metrics.
        known_paths: paths that may be labelled as such when answered before routing.
        lines_per_s, burst: the access lines' budget per (route, status).
        """
        self.app = app
        self.service = service
        self.known_paths = frozenset(known_paths)
        self._new_id = RequestIdGenerator()
        self._budget = LineBudget(per_s=lines_per_s, burst=burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._request_id_of(scope)
        reset = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # an app that fails before answering: the server answers 500
        scope.setdefault("state", {})

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [pair for pair in message.get("headers", []) if pair[0].lower() != _HEADER]
                message["headers"] = [*headers, (_HEADER, request_id.encode("ascii"))]
                if tracing_enabled():
                    # Now, while the SERVER span records: it ends with the last body message.
                    self._name_span(scope, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed_s = time.perf_counter() - started
            route = route_of(scope, self.known_paths)
            record_http_request(self.service, scope, route, status, elapsed_s)
            self._log(scope, route, status, elapsed_s)
            request_id_var.reset(reset)

    def _name_span(self, scope: Scope, request_id: str) -> None:
        route = route_of(scope, self.known_paths)
        attributes: dict[str, str | int | bool] = {"http.route": route, REQUEST_ID: request_id}
        if reason := error_reason_of(scope):
            attributes[ERROR_REASON] = reason
        name_server_span(f"{scope.get('method', '')} {route}", attributes)

    def _request_id_of(self, scope: Scope) -> str:
        for name, value in scope.get("headers", ()):
            if name.lower() == _HEADER:
                offered: str = value.decode("latin-1")
                if _ACCEPTABLE_REQUEST_ID.fullmatch(offered):
                    return offered
                break
        return self._new_id()

    def _log(self, scope: Scope, route: str, status: int, elapsed_s: float) -> None:
        level = logging.DEBUG if route in _QUIET_ROUTES else logging.INFO
        if not logger.isEnabledFor(level):
            return
        suppressed = self._budget.take((route, status))
        if suppressed is None:
            return
        extra: dict[str, Any] = {
            "http_status": status,
            "reason": error_reason_of(scope),
            "duration_ms": round(elapsed_s * 1000, 3),
        }
        if suppressed:
            extra["suppressed"] = suppressed
        logger.log(level, "%s %s %d", scope.get("method", ""), route, status, extra=extra)
