"""A `grpc.aio` server interceptor base that runs code around every kind of RPC handler.

Subclasses implement `around(context, method)` as an async context manager; the base class
wraps the real handler's behaviour (unary or streaming, either direction) so that the code
runs inside the RPC's own task, where per-RPC context variables are private to the call.

Cost per RPC matters here: every call of every service passes through each interceptor.
- The wrapped handler is built once per (method, inner handler) and reused, not rebuilt
  (closures, `_replace`, `inspect`) on every RPC.
- Interceptors on hot paths also override `run_unary` with the same logic as plain
  `try`/`finally`: the async generator behind `@asynccontextmanager` costs several
  microseconds per RPC, and the event loop registers every one in a weak set.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import grpc

Behavior = Callable[[Any, grpc.aio.ServicerContext], Any]

# Handlers are few (one per method and chain position); the bound only guards against a
# continuation that builds a new handler object on every call.
_MAX_CACHED_HANDLERS = 1024


class AroundInterceptor(grpc.aio.ServerInterceptor, abc.ABC):
    """Wraps each RPC handler of the server in `self.around(context, method)`."""

    @abc.abstractmethod
    def around(self, context: grpc.aio.ServicerContext, method: str) -> AbstractAsyncContextManager[None]:
        """Return the context manager entered before and exited after the handler."""

    async def run_unary(
        self, behavior: Behavior, request: Any, context: grpc.aio.ServicerContext, method: str
    ) -> Any:
        """Run a handler that returns its response (unary or client-streaming) inside `around`.

        Override it, with exactly the logic of `around`, where the per-RPC cost matters.
        """
        async with self.around(context, method):
            return await behavior(request, context)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        """Return the next handler with its behaviour wrapped (None for unknown methods)."""
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        cache = self._wrapped_handlers()
        try:
            return cache[(method, handler)]
        except KeyError:
            pass
        except TypeError:  # an unhashable handler: wrap it for this call only
            return _wrap_handler(handler, self, method)
        if len(cache) >= _MAX_CACHED_HANDLERS:
            cache.clear()
        wrapped = cache[(method, handler)] = _wrap_handler(handler, self, method)
        return wrapped

    def _wrapped_handlers(self) -> dict[tuple[str, grpc.RpcMethodHandler], grpc.RpcMethodHandler]:
        # Created on first use: subclasses need not call a base constructor.
        try:
            return self.__dict__["_atoms_wrapped_handlers"]  # type: ignore[no-any-return]
        except KeyError:
            return self.__dict__.setdefault("_atoms_wrapped_handlers", {})  # type: ignore[no-any-return]


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

    run_unary = interceptor.run_unary

    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await run_unary(behavior, request, context, method)

    return wrapped
