"""ForwardCallerTokenInterceptor: downstream calls carry the caller of the RPC being handled.

The downstream service is a bare `grpc.aio` server with one method of each kind that
records the metadata it received. "Handling an RPC" is simulated by a task whose context
holds what the kit's server interceptors set: the caller's token and request id.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from atoms_grpc import first_party_channel, forward_caller_token_interceptors
from atoms_grpc.request_context import bearer_token_var, request_id_var
from tests.support.token_factory import remember

USER_TOKEN = remember("user-session-token-for-forwarding-" + "u" * 24)
OTHER_USER_TOKEN = remember("other-session-token-for-forwarding-" + "o" * 24)
SERVICE_TOKEN = remember("own-service-token-for-forwarding-" + "s" * 24)
RECORDED_KEYS = ("authorization", "x-request-id", "x-tenant-hint")
SERVICE = "/forwarding.test.v1.Echo"


@dataclass
class Downstream:
    """A downstream server that records each call's metadata."""

    address: str
    seen: list[dict[str, str]] = field(default_factory=list)

    def remember(self, context: grpc.aio.ServicerContext) -> None:
        metadata = context.invocation_metadata() or ()
        self.seen.append({key: value for key, value in metadata if key in RECORDED_KEYS})


def _handlers(downstream: Downstream) -> grpc.GenericRpcHandler:
    async def unary(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        downstream.remember(context)
        return request

    async def server_stream(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        downstream.remember(context)
        yield request

    async def client_stream(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> bytes:
        downstream.remember(context)
        return b"".join([request async for request in requests])

    async def bidi(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        downstream.remember(context)
        async for request in requests:
            yield request

    return grpc.method_handlers_generic_handler(
        SERVICE.lstrip("/"),
        {
            "Unary": grpc.unary_unary_rpc_method_handler(unary),
            "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
            "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream),
            "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
        },
    )


@pytest.fixture
async def downstream() -> AsyncIterator[Downstream]:
    server = grpc.aio.server()
    recorder = Downstream(address="")
    server.add_generic_rpc_handlers((_handlers(recorder),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    recorder.address = f"127.0.0.1:{port}"
    yield recorder
    await server.stop(0)


async def _unary(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...]) -> Any:
    return await channel.unary_unary(f"{SERVICE}/Unary")(b"x", metadata=metadata, timeout=5)


async def _server_stream(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...]) -> Any:
    return [reply async for reply in channel.unary_stream(f"{SERVICE}/ServerStream")(b"x", metadata=metadata)]


async def _client_stream(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...]) -> Any:
    return await channel.stream_unary(f"{SERVICE}/ClientStream")(iter([b"a", b"b"]), metadata=metadata)


async def _bidi(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...]) -> Any:
    call = channel.stream_stream(f"{SERVICE}/Bidi")(iter([b"a", b"b"]), metadata=metadata)
    return [reply async for reply in call]


CALL_KINDS = {
    "unary call": _unary,
    "server-streaming call": _server_stream,
    "client-streaming call": _client_stream,
    "bidirectional call": _bidi,
}


async def _as_caller(token: str, request_id: str, action: Callable[[], Awaitable[Any]]) -> Any:
    """Run `action` the way a handler runs: with the caller's token and request id in context."""

    async def handling_an_rpc() -> Any:
        bearer_token_var.set(token)
        request_id_var.set(request_id)
        return await action()

    return await asyncio.create_task(handling_an_rpc())


@pytest.mark.parametrize("kind", CALL_KINDS.values(), ids=CALL_KINDS.keys())
async def test_call_made_while_handling_an_rpc_carries_the_callers_token_and_request_id(
    downstream: Downstream, kind: Callable[..., Awaitable[Any]]
) -> None:
    async with first_party_channel(downstream.address) as channel:
        await _as_caller(USER_TOKEN, "req-forward-1", lambda: kind(channel, ()))
    assert downstream.seen == [{"authorization": f"Bearer {USER_TOKEN}", "x-request-id": "req-forward-1"}]


async def test_metadata_the_call_sets_itself_is_never_overridden(downstream: Downstream) -> None:
    own = (("authorization", f"Bearer {SERVICE_TOKEN}"), ("x-request-id", "req-own"))
    async with first_party_channel(downstream.address) as channel:
        await _as_caller(USER_TOKEN, "req-caller", lambda: _unary(channel, own))
    assert downstream.seen == [{"authorization": f"Bearer {SERVICE_TOKEN}", "x-request-id": "req-own"}]


async def test_only_what_the_call_lacks_is_added_and_its_other_metadata_is_kept(
    downstream: Downstream,
) -> None:
    own = (("x-request-id", "req-own"), ("x-tenant-hint", "blue"))
    async with first_party_channel(downstream.address) as channel:
        await _as_caller(USER_TOKEN, "req-caller", lambda: _unary(channel, own))
    assert downstream.seen == [
        {"authorization": f"Bearer {USER_TOKEN}", "x-request-id": "req-own", "x-tenant-hint": "blue"}
    ]


async def test_call_made_outside_an_rpc_carries_no_token(downstream: Downstream) -> None:
    async with first_party_channel(downstream.address) as channel:
        await _unary(channel, ())
    assert downstream.seen == [{}]


async def test_channel_without_the_interceptor_forwards_nothing(downstream: Downstream) -> None:
    async with grpc.aio.insecure_channel(downstream.address) as channel:
        await _as_caller(USER_TOKEN, "req-caller", lambda: _unary(channel, ()))
    assert downstream.seen == [{}]


@pytest.mark.parametrize("kind", CALL_KINDS.values(), ids=CALL_KINDS.keys())
async def test_interceptors_passed_to_a_channel_of_ones_own_forward_on_every_call_kind(
    downstream: Downstream, kind: Callable[..., Awaitable[Any]]
) -> None:
    interceptors = forward_caller_token_interceptors()
    async with grpc.aio.insecure_channel(downstream.address, interceptors=interceptors) as channel:
        await _as_caller(USER_TOKEN, "req-own-channel", lambda: kind(channel, ()))
    assert downstream.seen == [{"authorization": f"Bearer {USER_TOKEN}", "x-request-id": "req-own-channel"}]


async def test_concurrent_callers_on_one_channel_each_forward_their_own_token(downstream: Downstream) -> None:
    async with first_party_channel(downstream.address) as channel:
        await asyncio.gather(
            *(
                _as_caller(token, f"req-{index}", lambda: _unary(channel, ()))
                for index, token in enumerate([USER_TOKEN, OTHER_USER_TOKEN] * 5)
            )
        )
    forwarded = {(seen["x-request-id"], seen["authorization"]) for seen in downstream.seen}
    assert forwarded == {
        (f"req-{index}", f"Bearer {token}") for index, token in enumerate([USER_TOKEN, OTHER_USER_TOKEN] * 5)
    }
