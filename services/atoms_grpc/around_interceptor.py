"""A `grpc.aio` server interceptor base that runs code around every kind of RPC handler.

Subclasses implement `around(context, method)` as an async context manager; the base class
wraps the real handler's behaviour (unary or streaming, either direction) so that the code
runs inside the RPC's own task, where per-RPC context variables are private to the call.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import grpc

Behavior = Callable[[Any, grpc.aio.ServicerContext], Any]


class AroundInterceptor(grpc.aio.ServerInterceptor, abc.ABC):
    """Wraps each RPC handler of the server in `self.around(context, method)`."""

    @abc.abstractmethod
    def around(self, context: grpc.aio.ServicerContext, method: str) -> AbstractAsyncContextManager[None]:
        """Return the context manager entered before and exited after the handler."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        """Return the next handler with its behaviour wrapped (None for unknown methods)."""
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return _wrap_handler(handler, self, handler_call_details.method)


def _wrap_handler(handler: grpc.RpcMethodHandler, interceptor: AroundInterceptor, method: str) -> Any:
    if handler.unary_unary is not None:
        return handler._replace(unary_unary=_wrap_behavior(handler.unary_unary, interceptor, method))
    if handler.unary_stream is not None:
        return handler._replace(unary_stream=_wrap_behavior(handler.unary_stream, interceptor, method))
    if handler.stream_unary is not None:
        return handler._replace(stream_unary=_wrap_behavior(handler.stream_unary, interceptor, method))
    return handler._replace(stream_stream=_wrap_behavior(handler.stream_stream, interceptor, method))


def _wrap_behavior(behavior: Behavior, interceptor: AroundInterceptor, method: str) -> Behavior:
    if inspect.isasyncgenfunction(behavior):

        async def wrapped_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with interceptor.around(context, method):
                async for response in behavior(request, context):
                    yield response

        return wrapped_stream

    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        async with interceptor.around(context, method):
            return await behavior(request, context)

    return wrapped
