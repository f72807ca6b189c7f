"""HttpRequestIdMiddleware: a request id and an access line for every request of an HTTP face.

The HTTP counterpart of `RequestIdInterceptor` and `AccessLogInterceptor`, for the agent's
HTTP face and the Atoms MCP. The request id is the caller's `x-request-id` when it is well
formed (the agent sends the one its own caller gave), else a new one; every log line written
while the request is handled carries it (`request_id` of the JSON line), the response echoes it,
and one access line ends the request: method, route template, status, reason and duration
(health and readiness probes at DEBUG, within a line budget per route and status).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from atoms_grpc.http_metrics import UNMATCHED_ROUTE, AsgiApp, Message, Receive, Scope, Send, error_reason_of
from atoms_grpc.line_budget import DEFAULT_BURST, DEFAULT_LINES_PER_S, LineBudget
from atoms_grpc.request_context import request_id_var
from atoms_grpc.request_id_interceptor import (
    _ACCEPTABLE_REQUEST_ID,
    REQUEST_ID_METADATA_KEY,
    RequestIdGenerator,
)

logger = logging.getLogger("atoms_grpc.http_access")

_HEADER = REQUEST_ID_METADATA_KEY.encode("ascii")
_QUIET_ROUTES = frozenset({"/health", "/ready"})


class HttpRequestIdMiddleware:
    """Sets the request id for the request's log lines, echoes it, and logs one access line."""

    def __init__(
        self, app: AsgiApp, *, lines_per_s: float = DEFAULT_LINES_PER_S, burst: int = DEFAULT_BURST
    ) -> None:
        self.app = app
        self._new_id = RequestIdGenerator()
        self._budget = LineBudget(per_s=lines_per_s, burst=burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._request_id_of(scope)
        reset = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [pair for pair in message.get("headers", []) if pair[0].lower() != _HEADER]
                message["headers"] = [*headers, (_HEADER, request_id.encode("ascii"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._log(scope, status, time.perf_counter() - started)
            request_id_var.reset(reset)

    def _request_id_of(self, scope: Scope) -> str:
        for name, value in scope.get("headers", ()):
            if name.lower() == _HEADER:
                offered: str = value.decode("latin-1")
                if _ACCEPTABLE_REQUEST_ID.fullmatch(offered):
                    return offered
                break
        return self._new_id()

    def _log(self, scope: Scope, status: int, elapsed_s: float) -> None:
        route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
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
