"""StatusMappingInterceptor: the single place where exceptions become gRPC statuses."""

from __future__ import annotations

import contextvars
import logging
from typing import Any

import grpc

from atoms_grpc.around_interceptor import AroundInterceptor
from atoms_grpc.line_budget import LineBudget
from atoms_grpc.service_error import ServiceError

logger = logging.getLogger(__name__)

error_reason_var: contextvars.ContextVar[str] = contextvars.ContextVar("atoms_error_reason", default="")

# Refusals repeat (the same reason and message for every bad token of a kind): their
# serialised `google.rpc.Status` is built once. The bound keeps varied messages harmless.
_MAX_CACHED_STATUSES = 512
# Unhandled errors are bugs worth a traceback, but one input that triggers a bug can be sent
# thousands of times a second: a few tracebacks a second per method, the rest counted.
_INTERNAL_LINES_PER_S = 1.0
_INTERNAL_BURST = 10
_StatusKey = tuple[type, grpc.StatusCode, str, str, str, tuple[tuple[str, str], ...], float | None]


class StatusMappingInterceptor(AroundInterceptor):
    """Turns `ServiceError` into its status with ErrorInfo (and RetryInfo), anything else into INTERNAL.

    `grpc.aio.AbortError` (a handler that aborted itself) passes untouched. The reason of a
    mapped error is left in `error_reason_var` for the access log and metrics.
    """

    def __init__(self) -> None:
        self._statuses: dict[_StatusKey, grpc.Status] = {}
        self._internal_lines = LineBudget(per_s=_INTERNAL_LINES_PER_S, burst=_INTERNAL_BURST)

    async def after_rpc(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        method: str,
        state: None,
        error: BaseException | None,
    ) -> None:
        """Translate what the handler raised into its status (by aborting the RPC)."""
        if error is None or isinstance(error, grpc.aio.AbortError) or not isinstance(error, Exception):
            return  # success, a handler that aborted itself, or cancellation: nothing to map
        if isinstance(error, ServiceError):
            await self._abort_with(error, context)
        else:
            await self._abort_internal(context, method, error)

    async def _abort_with(self, err: ServiceError, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        error_reason_var.set(err.reason)
        status = self._status_of(err)
        await context.abort(status.code, status.details, status.trailing_metadata)

    def _status_of(self, err: ServiceError) -> grpc.Status:
        metadata = tuple(sorted(err.metadata.items()))
        key = (type(err), err.status_code, err.reason, err.domain, err.message, metadata, err.retry_delay_s)
        status = self._statuses.get(key)
        if status is None:
            if len(self._statuses) >= _MAX_CACHED_STATUSES:
                self._statuses.clear()
            status = self._statuses[key] = err.to_grpc_status()
        return status

    async def _abort_internal(
        self, context: grpc.aio.ServicerContext[Any, Any], method: str, error: Exception
    ) -> None:
        # Unknown failures are bugs: log them with the stack (within the budget), tell the caller nothing.
        suppressed = self._internal_lines.take(method)
        if suppressed is not None:
            logger.error("unhandled error in %s", method, exc_info=error, extra={"suppressed": suppressed})
        error_reason_var.set("INTERNAL")
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
