"""The kit's interceptor chain around streaming handlers, over a real loopback server.

Each interceptor writes its logic once (`before_rpc` / `after_rpc`); these tests show that
the same logic runs for server-streaming and bidirectional RPCs as for unary ones: the
request id is set inside the handler, a `ServiceError` raised mid-stream becomes its status
with ErrorInfo after the messages already sent, and the hooks see how the stream ended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from atoms_grpc.access_log_interceptor import AccessLogInterceptor
from atoms_grpc.around_interceptor import AroundInterceptor
from atoms_grpc.request_context import request_id_var
from atoms_grpc.request_id_interceptor import RequestIdInterceptor
from atoms_grpc.service_error import ServiceError
from atoms_grpc.status_mapping import StatusMappingInterceptor

SERVICE = "test.v1.Streams"


class _QuotaExhaustedError(ServiceError):
    status_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "QUOTA_EXHAUSTED"
    domain = "test.atoms"


class _RecordingInterceptor(AroundInterceptor):
    """Innermost: records the hooks it saw, per method."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    async def before_rpc(self, context: grpc.aio.ServicerContext, method: str) -> str:
        return "state-" + method.rpartition("/")[2]

    async def after_rpc(
        self, context: grpc.aio.ServicerContext, method: str, state: str, error: BaseException | None
    ) -> None:
        self.seen.append((method.rpartition("/")[2], state, type(error).__name__ if error else "none"))


async def _count(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    for index in range(int(request)):
        yield f"{index}:{request_id_var.get()}".encode()


async def _fail_after_one(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    yield b"first"
    raise _QuotaExhaustedError("the stream's quota is used up")


async def _echo(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    async for request in requests:
        yield request.upper()


async def _unary(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request[::-1]


@pytest.fixture
async def streams() -> AsyncIterator[tuple[grpc.aio.Channel, _RecordingInterceptor]]:
    recorder = _RecordingInterceptor()
    server = grpc.aio.server(
        interceptors=(RequestIdInterceptor(), AccessLogInterceptor(), StatusMappingInterceptor(), recorder)
    )
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "Count": grpc.unary_stream_rpc_method_handler(_count),
                    "FailAfterOne": grpc.unary_stream_rpc_method_handler(_fail_after_one),
                    "Echo": grpc.stream_stream_rpc_method_handler(_echo),
                    "Reverse": grpc.unary_unary_rpc_method_handler(_unary),
                },
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel, recorder
    finally:
        await channel.close()
        await server.stop(None)


async def test_a_server_stream_runs_inside_the_chain_with_the_callers_request_id(streams: Any) -> None:
    channel, recorder = streams
    call = channel.unary_stream(f"/{SERVICE}/Count")(b"3", metadata=(("x-request-id", "req-stream-1"),))
    answers = [message async for message in call]
    assert answers == [b"0:req-stream-1", b"1:req-stream-1", b"2:req-stream-1"]
    assert await call.code() == grpc.StatusCode.OK
    assert recorder.seen == [("Count", "state-Count", "none")]


async def test_a_service_error_mid_stream_becomes_its_status_after_the_messages_sent(streams: Any) -> None:
    channel, recorder = streams
    call = channel.unary_stream(f"/{SERVICE}/FailAfterOne")(b"")
    assert await call.read() == b"first"
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call.read()
    assert failed.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(failed.value)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain) == ("QUOTA_EXHAUSTED", "test.atoms")
    assert recorder.seen == [("FailAfterOne", "state-FailAfterOne", "_QuotaExhaustedError")]


async def test_a_bidirectional_stream_and_a_unary_call_pass_the_same_hooks(streams: Any) -> None:
    channel, recorder = streams

    async def requests() -> AsyncIterator[bytes]:
        for word in (b"a", b"b"):
            yield word

    answers = [message async for message in channel.stream_stream(f"/{SERVICE}/Echo")(requests())]
    reversed_ = await channel.unary_unary(f"/{SERVICE}/Reverse")(b"abc")
    assert (answers, reversed_) == ([b"A", b"B"], b"cba")
    assert recorder.seen == [("Echo", "state-Echo", "none"), ("Reverse", "state-Reverse", "none")]
