"""StatusMappingInterceptor: the single place where exceptions become gRPC statuses."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc

from services.atoms_grpc.around_interceptor import AroundInterceptor
from services.atoms_grpc.service_error import ServiceError

logger = logging.getLogger(__name__)

error_reason_var: contextvars.ContextVar[str] = contextvars.ContextVar("atoms_error_reason", default="")


class StatusMappingInterceptor(AroundInterceptor):
    """Turns `ServiceError` into its status with ErrorInfo, anything else into INTERNAL.

    `grpc.aio.AbortError` (a handler that aborted itself) passes untouched. The reason of a
    mapped error is left in `error_reason_var` for the access log and metrics.
    """

    @asynccontextmanager
    async def around(self, context: grpc.aio.ServicerContext, method: str) -> AsyncIterator[None]:
        """Run the handler and translate what it raises."""
        try:
            yield
        except grpc.aio.AbortError:
            raise
        except ServiceError as err:
            error_reason_var.set(err.reason)
            status = err.to_grpc_status()
            await context.abort(status.code, status.details, status.trailing_metadata)
        except Exception:
            # Unknown failures are bugs: log them with the stack, tell the caller nothing internal.
            logger.exception("unhandled error in %s", method)
            error_reason_var.set("INTERNAL")
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
