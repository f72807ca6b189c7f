"""ForwardCallerTokenInterceptor: downstream calls made while handling an RPC carry its caller.

A service that calls another first-party service on the user's behalf opens that channel
with `first_party_channel()`, or passes `forward_caller_token_interceptors()` to its own
`grpc.aio.*_channel`. Every call on it, unary or streaming, then carries the
`authorization` and `x-request-id` of the RPC being handled, read from the kit's context
variables (set by `RequestIdInterceptor` and `BearerAuthInterceptor`). Metadata the call
sets itself always wins, and outside an RPC nothing is added.

Hazard: the forwarded value is the user's own bearer token, good for every first-party
service until it expires. Install the interceptors only on channels to services that
authenticate through the Atoms auth service; never on a channel to a third party (a partner
API, a user-registered MCP server, a model endpoint). A task an RPC starts inherits its
context, so a background task that outlives the RPC keeps forwarding that caller's token:
start such tasks with a fresh `contextvars.Context()` if they must not act as the caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from typing import Any

import grpc

from atoms_grpc.auth_interceptor import forwarded_metadata
from atoms_grpc.tls_config import TlsConfig

ChannelOption = tuple[str, Any]


class ForwardCallerTokenInterceptor:
    """Adds the current caller's `authorization` and `x-request-id` to the calls of a channel.

    The base of one interceptor per call kind; `forward_caller_token_interceptors()` returns
    the four. Only on channels to first-party services: see the module docstring.
    """

    @staticmethod
    def caller_details(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        """Return the call details with the caller's values added where the call set none."""
        return _with_caller_metadata(details)


class _UnaryUnaryForwarding(ForwardCallerTokenInterceptor, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(self.caller_details(client_call_details), request)


class _UnaryStreamForwarding(ForwardCallerTokenInterceptor, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(self.caller_details(client_call_details), request)


class _StreamUnaryForwarding(ForwardCallerTokenInterceptor, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: Iterable[Any] | AsyncIterable[Any],
    ) -> Any:
        return await continuation(self.caller_details(client_call_details), request_iterator)


class _StreamStreamForwarding(ForwardCallerTokenInterceptor, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: Iterable[Any] | AsyncIterable[Any],
    ) -> Any:
        return await continuation(self.caller_details(client_call_details), request_iterator)


def forward_caller_token_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """Return the forwarding interceptors for `grpc.aio.*_channel(..., interceptors=...)`.

    One per call kind (unary, server-, client- and bidirectional streaming): a `grpc.aio`
    channel files each interceptor under the first kind it implements only, so one object
    implementing all four would forward on unary calls and silently skip the streams.
    Only for channels to first-party services: see the module docstring.
    """
    return [
        _UnaryUnaryForwarding(),
        _UnaryStreamForwarding(),
        _StreamUnaryForwarding(),
        _StreamStreamForwarding(),
    ]


def _with_caller_metadata(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    additions = forwarded_metadata()
    if not additions:
        return details
    existing = tuple(details.metadata or ())
    present = {key for key, _ in existing}
    missing = tuple((key, value) for key, value in additions if key not in present)
    if not missing:
        return details
    return grpc.aio.ClientCallDetails(
        method=details.method,
        timeout=details.timeout,
        metadata=grpc.aio.Metadata(*existing, *missing),
        credentials=details.credentials,
        wait_for_ready=details.wait_for_ready,
    )


def first_party_channel(
    target: str, *, tls: TlsConfig | None = None, options: Sequence[ChannelOption] = ()
) -> grpc.aio.Channel:
    """Open a channel to a first-party service whose calls carry the current caller's token.

    The caller owns the channel and closes it (`await channel.close()`).

    Args:
        target: `host:port` of a service that authenticates through the Atoms auth service.
        tls: TLS (with this process's client certificate for mutual TLS); plaintext when None
            or not enabled (loopback, or a mesh whose sidecars do mTLS).
        options: gRPC channel options.
    """
    interceptors = forward_caller_token_interceptors()
    credentials = tls.channel_credentials() if tls is not None else None
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)
    return grpc.aio.secure_channel(target, credentials, options=options, interceptors=interceptors)
