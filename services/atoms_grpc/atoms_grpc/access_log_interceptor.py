"""AccessLogInterceptor: one metrics sample per RPC, and an access log line per RPC within a budget.

With tracing on, the RPC's span gets its request id and error reason as well.

Every RPC is counted and timed in the metrics (`atoms_grpc_server_handled`,
`atoms_grpc_server_handling_seconds`). Log lines are cheap at tens of RPCs a second and the
largest cost of a fast service at thousands (a JSON line and a write per call), so each
(method, status) pair gets a budget of lines per second with a burst. Below the budget,
which is where development, tests and most services live, every RPC has its line. Above it
the rest are counted, and the next line written carries `suppressed`: the number of RPCs
of that method and status since the previous line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import grpc

from atoms_grpc.around_interceptor import AroundInterceptor
from atoms_grpc.line_budget import DEFAULT_BURST, DEFAULT_LINES_PER_S, LineBudget
from atoms_grpc.request_context import principal_var, request_id_var
from atoms_grpc.service_metrics import RpcMetrics
from atoms_grpc.status_mapping import error_reason_var
from atoms_grpc.tracing import ERROR_REASON, REQUEST_ID, annotate_span, tracing_enabled

logger = logging.getLogger(__name__)

_QUIET_METHODS = ("/grpc.health.v1.Health/", "/grpc.reflection.")
_CODES_BY_VALUE = {code.value[0]: code for code in grpc.StatusCode}
# `StatusCode.X.name` goes through enum's descriptor machinery: read it once per code.
_CODE_NAMES = {code: code.name for code in grpc.StatusCode}


class AccessLogInterceptor(AroundInterceptor):
    """Logs method, code, reason, principal and duration; health and reflection at DEBUG.

    It must sit outside `StatusMappingInterceptor` so that it sees the mapped status,
    including authentication failures.
    """

    def __init__(
        self, *, lines_per_s: float | None = DEFAULT_LINES_PER_S, burst: int = DEFAULT_BURST
    ) -> None:
        """Args:
        lines_per_s: access lines per second for each (method, status); None logs every RPC.
        burst: lines that may be written at once before the rate applies.
        """
        self._metrics = RpcMetrics()
        self._budget = LineBudget(per_s=lines_per_s, burst=burst) if lines_per_s is not None else None

    async def before_rpc(self, context: grpc.aio.ServicerContext[Any, Any], method: str) -> float:
        """Start the clock."""
        return time.perf_counter()

    async def after_rpc(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        method: str,
        state: float,
        error: BaseException | None,
    ) -> None:
        """Record the RPC's outcome and duration: the access line and the RPC metrics."""
        if error is None:
            outcome = _code_of(context, default=grpc.StatusCode.OK)
        elif isinstance(error, asyncio.CancelledError):
            outcome = _cancellation_code(context)
        else:
            outcome = _code_of(context, default=grpc.StatusCode.UNKNOWN)
        self._record(method, outcome, time.perf_counter() - state)

    def _record(self, method: str, code: grpc.StatusCode, elapsed_s: float) -> None:
        reason = error_reason_var.get()
        code_name = _CODE_NAMES[code]
        self._metrics.record(method, code_name, reason, elapsed_s)
        if tracing_enabled():
            # The request id finds the trace; the reason says why it failed.
            annotate_span(
                {REQUEST_ID: request_id_var.get(), ERROR_REASON: reason}
                if reason
                else {REQUEST_ID: request_id_var.get()}
            )
        level = logging.DEBUG if method.startswith(_QUIET_METHODS) else logging.INFO
        if not logger.isEnabledFor(level):
            return
        suppressed = self._budget.take((method, code)) if self._budget is not None else 0
        if suppressed is None:
            return
        principal = principal_var.get()
        extra: dict[str, Any] = {
            "grpc_code": code_name,
            "reason": reason,
            "duration_ms": round(elapsed_s * 1000, 3),
            "subject": principal.subject if principal else "",
            "org_id": principal.org_id if principal else "",
        }
        if suppressed:
            extra["suppressed"] = suppressed
        logger.log(level, "%s %s", method, code_name, extra=extra)


def _cancellation_code(context: grpc.aio.ServicerContext[Any, Any]) -> grpc.StatusCode:
    # gRPC cancels the handler when the caller's deadline passes or the caller goes away.
    remaining = context.time_remaining()
    expired = remaining is not None and remaining <= 0
    return grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED


def _code_of(context: grpc.aio.ServicerContext[Any, Any], *, default: grpc.StatusCode) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):
        return _CODES_BY_VALUE.get(code, default)
    return default
