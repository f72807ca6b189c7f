"""OtlpTraceReceiver: a trace collector on loopback that speaks OTLP/gRPC and keeps what it gets.

It serves `opentelemetry.proto.collector.trace.v1.TraceService/Export`, the protocol the
services' OTLP exporters speak to a real OpenTelemetry Collector, so `make demo` can print the
trace of its chat call and the tests can check spans from every process without one. It keeps
at most `max_spans` spans (the oldest go first) and counts every span by its `service.name`;
with `max_spans=0` it only counts, which is what a benchmark that sends thousands of spans a
second needs (`receiver_process.ReceiverProcess` runs it so, in a process of its own). Nothing
is written anywhere.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

_SPAN_KINDS = {
    trace_pb2.Span.SPAN_KIND_INTERNAL: "INTERNAL",
    trace_pb2.Span.SPAN_KIND_SERVER: "SERVER",
    trace_pb2.Span.SPAN_KIND_CLIENT: "CLIENT",
    trace_pb2.Span.SPAN_KIND_PRODUCER: "PRODUCER",
    trace_pb2.Span.SPAN_KIND_CONSUMER: "CONSUMER",
}
_STATUS = {
    trace_pb2.Status.STATUS_CODE_UNSET: "UNSET",
    trace_pb2.Status.STATUS_CODE_OK: "OK",
    trace_pb2.Status.STATUS_CODE_ERROR: "ERROR",
}
DEFAULT_MAX_SPANS = 50_000
_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

SpanCondition = Callable[[Sequence["ReceivedSpan"]], bool]


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    """One span as exported, with its ids in W3C hex and its process's `service.name`."""

    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    start_ns: int
    end_ns: int
    status: str
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        """How long the span lasted."""
        return (self.end_ns - self.start_ns) / 1e6


class OtlpTraceReceiver(trace_service_pb2_grpc.TraceServiceServicer):
    """Receives spans over OTLP/gRPC on `127.0.0.1` and answers questions about them."""

    def __init__(self, *, max_spans: int = DEFAULT_MAX_SPANS) -> None:
        self._spans: collections.deque[ReceivedSpan] = collections.deque(maxlen=max_spans)
        self._counts: collections.Counter[str] = collections.Counter()
        self._arrived = asyncio.Condition()
        self._server: grpc.aio.Server | None = None
        self.port: int | None = None

    @property
    def endpoint(self) -> str:
        """The value of OTEL_EXPORTER_OTLP_ENDPOINT that sends a process's spans here."""
        if self.port is None:
            raise RuntimeError("the receiver is not started")
        return f"http://127.0.0.1:{self.port}"

    def exporter_environment(
        self, *, batch_delay_ms: int = 100, sampler: str = "parentbased_always_on"
    ) -> dict[str, str]:
        """The OTEL_* variables that turn a service's tracing on and send its spans here quickly."""
        return exporter_environment(self.endpoint, batch_delay_ms=batch_delay_ms, sampler=sampler)

    async def start(self, port: int = 0) -> int:
        """Listen on 127.0.0.1 (`port` 0 picks a free one); return the port."""
        server = grpc.aio.server(options=(("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, server)
        self.port = server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        self._server = server
        return self.port

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            await self._server.stop(0.5)
        self._server = None

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.aio.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        """Count the request's spans, keep them (unless `max_spans` is 0); wake whoever waits."""
        keep = self._spans.maxlen != 0
        received: list[ReceivedSpan] = []
        for resource_spans in request.resource_spans:
            service = _service_name(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                self._counts[service] += len(scope_spans.spans)
                if keep:
                    received.extend(_received(span, service) for span in scope_spans.spans)
        if not keep:
            return trace_service_pb2.ExportTraceServiceResponse()
        async with self._arrived:
            self._spans.extend(received)
            self._arrived.notify_all()
        return trace_service_pb2.ExportTraceServiceResponse()

    def span_counts(self) -> dict[str, int]:
        """Spans received so far by `service.name`, kept or not."""
        return dict(self._counts)

    def spans(self, trace_id: str | None = None) -> list[ReceivedSpan]:
        """The spans received so far, of one trace when `trace_id` is given, in arrival order."""
        return [span for span in self._spans if trace_id is None or span.trace_id == trace_id]

    async def wait_for_spans(self, condition: SpanCondition, *, timeout_s: float) -> list[ReceivedSpan]:
        """Wait until every span received so far, together, satisfies `condition`; return them.

        Raises:
            TimeoutError: it did not within `timeout_s`.
        """
        return await self._wait(None, condition, timeout_s)

    async def wait_for_trace(
        self, trace_id: str, condition: SpanCondition, *, timeout_s: float
    ) -> list[ReceivedSpan]:
        """Wait until the trace's spans satisfy `condition`; return them.

        Raises:
            TimeoutError: they did not within `timeout_s` (the message lists what came).
        """
        return await self._wait(trace_id, condition, timeout_s)

    async def _wait(
        self, trace_id: str | None, condition: SpanCondition, timeout_s: float
    ) -> list[ReceivedSpan]:
        try:
            async with asyncio.timeout(timeout_s), self._arrived:
                await self._arrived.wait_for(lambda: condition(self.spans(trace_id)))
        except TimeoutError:
            seen = ", ".join(f"{span.service}:{span.name}" for span in self.spans(trace_id)[:50]) or "none"
            what = f"trace {trace_id}" if trace_id else "the spans received"
            raise TimeoutError(
                f"{what}: the condition does not hold after {timeout_s} s; spans: {seen}"
            ) from None
        return self.spans(trace_id)


def exporter_environment(
    endpoint: str, *, batch_delay_ms: int = 100, sampler: str = "parentbased_always_on"
) -> dict[str, str]:
    """The OTEL_* variables that turn a service's tracing on and send its spans to `endpoint`.

    Args:
        endpoint: the receiver's `http://127.0.0.1:PORT` (OTLP over gRPC, no TLS).
        batch_delay_ms: `OTEL_BSP_SCHEDULE_DELAY`, the longest a finished span waits in its
            process's batch (a full batch of 512 goes at once).
        sampler: `OTEL_TRACES_SAMPLER`.
    """
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_TRACES_SAMPLER": sampler,
        "OTEL_BSP_SCHEDULE_DELAY": str(batch_delay_ms),
    }


def _service_name(attributes: Sequence[common_pb2.KeyValue]) -> str:
    for attribute in attributes:
        if attribute.key == "service.name":
            return attribute.value.string_value
    return "unknown_service"


def _received(span: trace_pb2.Span, service: str) -> ReceivedSpan:
    return ReceivedSpan(
        service=service,
        name=span.name,
        kind=_SPAN_KINDS.get(span.kind, "UNSPECIFIED"),
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        status=_STATUS.get(span.status.code, "UNSET"),
        attributes={attribute.key: _value(attribute.value) for attribute in span.attributes},
    )


def _value(value: common_pb2.AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind in (None, "kvlist_value", "bytes_value"):
        return None
    return getattr(value, kind)
