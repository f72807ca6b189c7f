"""An HTTP face's SERVER span: named after the route, with the request id, and never a secret header.

The app is the kit's HTTP face (OpenTelemetry's ASGI middleware outside `HttpFaceMiddleware`)
served on loopback by uvicorn (`serving_asgi`), traced into memory by a tracer provider of the test's own.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atoms_grpc.http_face_middleware import HttpFaceMiddleware
from atoms_grpc.http_metrics import record_error_reason
from atoms_grpc.tracing import add_tracing_middleware, set_tracing_enabled
from tests.support.loopback_http import serving_asgi
from tests.support.token_factory import remember

pytestmark = pytest.mark.asyncio

SECRET = remember("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyX3RyYWNlZCJ9.c2lnbmF0dXJlLXRyYWNlZA")


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    # An operator who asks for every header: Authorization and cookies must still not appear.
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", ".*")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE", ".*")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    set_tracing_enabled(True)
    try:
        yield provider, exporter
    finally:
        set_tracing_enabled(False)
        provider.shutdown()


def _app(provider: TracerProvider) -> Starlette:
    async def item(request: Request) -> JSONResponse:
        if request.path_params["name"] == "missing":
            record_error_reason(request.scope, "NOT_FOUND")
            return JSONResponse({"error": "no such item"}, status_code=404)
        return JSONResponse({"name": request.path_params["name"]}, headers={"set-cookie": "session=abc"})

    app = Starlette(
        routes=[Route("/items/{name}", item)],
        middleware=[Middleware(HttpFaceMiddleware, service="test")],
    )
    add_tracing_middleware(app, known_paths=("/health",), tracer_provider=provider)
    return app


async def test_the_span_is_named_after_the_route_and_carries_the_request_id_and_reason(spans) -> None:
    provider, exporter = spans
    async with serving_asgi(_app(provider)) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        found = await http.get("/items/apollo", headers={"x-request-id": "req-span-1"})
        missing = await http.get("/items/missing", headers={"x-request-id": "req-span-2"})
    assert (found.status_code, missing.status_code) == (200, 404)
    by_request = {span.attributes["atoms.request_id"]: span for span in exporter.get_finished_spans()}
    assert by_request["req-span-1"].name == "GET /items/{name}"
    assert by_request["req-span-1"].attributes["http.route"] == "/items/{name}"
    assert "atoms.error.reason" not in by_request["req-span-1"].attributes
    assert by_request["req-span-2"].attributes["atoms.error.reason"] == "NOT_FOUND"


async def test_no_secret_header_is_recorded_even_when_every_header_is_asked_for(spans) -> None:
    provider, exporter = spans
    async with serving_asgi(_app(provider)) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        await http.get(
            "/items/apollo",
            headers={
                "authorization": f"Bearer {SECRET}",
                "cookie": f"wos-session={SECRET}",
                "x-trace-me": "yes",
            },
        )
    (span,) = exporter.get_finished_spans()
    recorded = {key: value for key, value in (span.attributes or {}).items() if "header" in key}
    # The capture is on (a harmless header is recorded), and the secrets are redacted.
    assert recorded["http.request.header.x_trace_me"] == ("yes",)
    assert recorded["http.request.header.authorization"] == ("[REDACTED]",)
    assert recorded["http.request.header.cookie"] == ("[REDACTED]",)
    assert recorded["http.response.header.set_cookie"] == ("[REDACTED]",)
    assert SECRET not in repr(span.attributes)
