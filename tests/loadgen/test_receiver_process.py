"""The counting OTLP receiver in its own process: spans are counted by service, none is kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from atoms_devtools.trace_receiver.receiver_process import ReceiverProcess


def _export_spans(endpoint: str, service: str, count: int) -> None:
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint, insecure=True)))
    tracer = provider.get_tracer("test")
    for index in range(count):
        with tracer.start_as_current_span(f"span {index}"):
            pass
    provider.shutdown()


@pytest.fixture
async def receiver() -> AsyncIterator[ReceiverProcess]:
    started = ReceiverProcess()
    await started.start()
    yield started
    await started.stop()


@pytest.mark.timeout(60)
async def test_receiver_process_counts_exported_spans_by_service(receiver: ReceiverProcess) -> None:
    await asyncio.to_thread(_export_spans, receiver.endpoint, "svc-a", 3)
    await asyncio.to_thread(_export_spans, receiver.endpoint, "svc-b", 2)

    assert await receiver.wait_until_quiet(quiet_s=0.2) == {"svc-a": 3, "svc-b": 2}


@pytest.mark.timeout(60)
async def test_receiver_process_counts_nothing_before_any_export(receiver: ReceiverProcess) -> None:
    assert await receiver.span_counts() == {}


@pytest.mark.timeout(60)
async def test_exporter_environment_points_a_service_at_the_receiver(receiver: ReceiverProcess) -> None:
    env = receiver.exporter_environment(batch_delay_ms=250, sampler="always_on")

    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == receiver.endpoint
    assert env["OTEL_TRACES_SAMPLER"] == "always_on"
    assert env["OTEL_BSP_SCHEDULE_DELAY"] == "250"
