"""AccessLogInterceptor: one log line and one metrics sample per RPC, with its final status."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc

from services.atoms_grpc.around_interceptor import AroundInterceptor
from services.atoms_grpc.request_context import principal_var
from services.atoms_grpc.service_metrics import RPC_HANDLED, RPC_LATENCY, split_method
from services.atoms_grpc.status_mapping import error_reason_var

logger = logging.getLogger(__name__)

_QUIET_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.")


class AccessLogInterceptor(AroundInterceptor):
    """Logs method, code, reason, principal and duration; health and reflection at DEBUG.

    It must sit outside `StatusMappingInterceptor` so that it sees the mapped status,
    including authentication failures.
    """

    @asynccontextmanager
    async def around(self, context: grpc.aio.ServicerContext, method: str) -> AsyncIterator[None]:
        """Time the RPC and record its outcome."""
        started = time.perf_counter()
        outcome = grpc.StatusCode.UNKNOWN
        try:
            yield
            outcome = _code_of(context, default=grpc.StatusCode.OK)
        except asyncio.CancelledError:
            # gRPC cancels the handler when the caller's deadline passes or the caller goes away.
            remaining = context.time_remaining()
            expired = remaining is not None and remaining <= 0
            outcome = grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
            raise
        except BaseException:
            outcome = _code_of(context, default=grpc.StatusCode.UNKNOWN)
            raise
        finally:
            self._record(method, outcome, time.perf_counter() - started)

    @staticmethod
    def _record(method: str, code: grpc.StatusCode, elapsed_s: float) -> None:
        service, name = split_method(method)
        reason = error_reason_var.get()
        RPC_HANDLED.labels(service, name, code.name, reason).inc()
        RPC_LATENCY.labels(service, name).observe(elapsed_s)
        principal = principal_var.get()
        level = logging.DEBUG if service.startswith(_QUIET_SERVICES) else logging.INFO
        logger.log(
            level,
            "%s %s",
            method,
            code.name,
            extra={
                "grpc_code": code.name,
                "reason": reason,
                "duration_ms": round(elapsed_s * 1000, 3),
                "subject": principal.subject if principal else "",
                "org_id": principal.org_id if principal else "",
            },
        )


def _code_of(context: grpc.aio.ServicerContext, *, default: grpc.StatusCode) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):
        return next((c for c in grpc.StatusCode if c.value[0] == code), default)
    return default
