"""StatusMappingInterceptor: an unhandled error is INTERNAL to the caller, and its tracebacks are budgeted."""

from __future__ import annotations

import logging
from typing import Any

import grpc
import pytest

from atoms_grpc.status_mapping import StatusMappingInterceptor


class _AbortingContext:
    """The part of `grpc.aio.ServicerContext` the interceptor uses: abort raises, as grpc's does."""

    def __init__(self) -> None:
        self.aborted: list[tuple[grpc.StatusCode, str]] = []

    async def abort(self, code: grpc.StatusCode, details: str, trailing_metadata: Any = ()) -> None:
        self.aborted.append((code, details))
        raise grpc.aio.AbortError()


async def _buggy_handler(request: Any, context: Any) -> Any:
    raise RecursionError("a bug triggered by one hostile input")


async def test_a_flood_of_unhandled_errors_logs_a_bounded_number_of_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    interceptor = StatusMappingInterceptor()
    contexts = [_AbortingContext() for _ in range(200)]
    with caplog.at_level(logging.ERROR, logger="atoms_grpc.status_mapping"):
        for context in contexts:
            with pytest.raises(grpc.aio.AbortError):
                await interceptor.run_unary(_buggy_handler, object(), context, "/pkg.Svc/Method")
    assert all(context.aborted == [(grpc.StatusCode.INTERNAL, "internal error")] for context in contexts)
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert 1 <= len(tracebacks) < 20
