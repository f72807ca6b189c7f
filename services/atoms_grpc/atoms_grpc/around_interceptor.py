"""A `grpc.aio` server interceptor base that runs code before and after every kind of RPC handler.

A subclass writes its logic once, as two hooks: `before_rpc(context, method)` (its result is
handed to the second hook) and `after_rpc(context, method, state, error)`. The base class runs
them around unary and streaming handlers alike, inside the RPC's own task, where per-RPC
context variables are private to the call. `after_rpc` sees the handler's exception (None on
success); if it raises, its exception replaces the handler's (a status mapping aborts the
RPC that way), otherwise the handler's exception goes on.

Cost per RPC matters here: every call of every service passes through each interceptor.
- The wrapped handler is built once per (method, inner handler) and reused, through grpc's
  public `*_rpc_method_handler` constructors.
- The hooks are plain coroutines around a `try`: no async generator or context manager
  object per RPC (`@asynccontextmanager` costs several microseconds, and the event loop
  registers every async generator in a weak set).
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

# A handler's behaviour: (request or request iterator, context) -> response, awaitable or async iterator.
Behavior = Callable[..., Any]

# Handlers are few (one per method and chain position); the bound only guards against a
# continuation that builds a new handler object on every call.
_MAX_CACHED_HANDLERS = 1024


class AroundInterceptor(grpc.aio.ServerInterceptor, abc.ABC):
    """Runs `before_rpc` and `after_rpc` around each RPC handler of the server."""

    async def before_rpc(self, context: grpc.aio.ServicerContext[Any, Any], method: str) -> Any:
        """Run before the handler; may raise to refuse the RPC. The result goes to `after_rpc`."""
        return None

    async def after_rpc(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        method: str,
        state: Any,
        error: BaseException | None,
    ) -> None:
        """Run after the handler, with what it raised (None when it returned or finished streaming).

        Raise to replace the handler's exception; return to let it (if any) go on.
        """

    async def run_unary(
        self, behavior: Behavior, request: Any, context: grpc.aio.ServicerContext[Any, Any], method: str
    ) -> Any:
        """Run a handler that returns its response (unary or client-streaming) between the hooks."""
        state = await self.before_rpc(context, method)
        try:
            response = await behavior(request, context)
        except BaseException as error:
            await self.after_rpc(context, method, state, error)
            raise
        await self.after_rpc(context, method, state, None)
        return response

    async def run_streaming(
        self, behavior: Behavior, request: Any, context: grpc.aio.ServicerContext[Any, Any], method: str
    ) -> AsyncIterator[Any]:
        """Run a handler that yields its responses (server- or bidi-streaming) between the hooks."""
        state = await self.before_rpc(context, method)
        try:
            async for response in behavior(request, context):
                yield response
        except BaseException as error:
            await self.after_rpc(context, method, state, error)
            raise
        await self.after_rpc(context, method, state, None)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
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

    def _wrapped_handlers(
        self,
    ) -> dict[tuple[str, grpc.RpcMethodHandler[Any, Any]], grpc.RpcMethodHandler[Any, Any]]:
        # Created on first use: subclasses need not call a base constructor.
        try:
            return self.__dict__["_atoms_wrapped_handlers"]  # type: ignore[no-any-return]
        except KeyError:
            return self.__dict__.setdefault("_atoms_wrapped_handlers", {})  # type: ignore[no-any-return]


def _wrap_handler(
    handler: grpc.RpcMethodHandler[Any, Any], interceptor: AroundInterceptor, method: str
) -> grpc.RpcMethodHandler[Any, Any]:
    """The same handler, rebuilt with grpc's public constructors around the wrapped behaviour."""
    serializers = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            _wrap_behavior(handler.unary_unary, interceptor, method), **serializers
        )
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _wrap_behavior(handler.unary_stream, interceptor, method), **serializers
        )
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(
            _wrap_behavior(handler.stream_unary, interceptor, method), **serializers
        )
    if handler.stream_stream is None:
        raise TypeError(f"the handler of {method} has no behaviour")
    return grpc.stream_stream_rpc_method_handler(
        _wrap_behavior(handler.stream_stream, interceptor, method), **serializers
    )


def _wrap_behavior(behavior: Behavior, interceptor: AroundInterceptor, method: str) -> Behavior:
    if inspect.isasyncgenfunction(behavior):
        run_streaming = interceptor.run_streaming

        # An async generator function itself: grpc runs any other kind of callable as a
        # synchronous handler in a thread.
        async def wrapped_stream(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            async for response in run_streaming(behavior, request, context, method):
                yield response

        return wrapped_stream

    # Most interceptors implement one hook of the two: call it directly, without awaiting the
    # other, empty one and without the frame of `run_unary` (about 0.2 us an RPC each).
    kind = type(interceptor)
    before = interceptor.before_rpc if kind.before_rpc is not AroundInterceptor.before_rpc else None
    after = interceptor.after_rpc if kind.after_rpc is not AroundInterceptor.after_rpc else None
    if before is not None and after is None:

        async def before_only(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            await before(context, method)
            return await behavior(request, context)

        return before_only
    if before is None and after is not None:

        async def after_only(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                response = await behavior(request, context)
            except BaseException as error:
                await after(context, method, None, error)
                raise
            await after(context, method, None, None)
            return response

        return after_only
    run_unary = interceptor.run_unary

    async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        return await run_unary(behavior, request, context, method)

    return wrapped
