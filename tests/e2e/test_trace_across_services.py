"""One trace across the processes of one tool call: agent -> Atoms MCP -> auth service.

The stack runs as it does in production, one process per service (the local AuthKit, the
auth service, the Atoms MCP, the dev model and the agent), each with tracing turned on by the
standard OTEL_* variables and exporting over OTLP/gRPC to a collector served by this test on
loopback (`OtlpTraceReceiver`: the real `TraceService/Export` protocol). The test plays the
caller: it sends a `traceparent` of its own with a CallTool, so the agent's SERVER span has a
known parent, and reads back what every process exported.
"""

from __future__ import annotations

import json
import secrets
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms_devtools.demo.front_end_sign_in import SignedInUser, sign_in
from atoms_devtools.demo.walkthrough import DemoStack, running_stack
from atoms_devtools.trace_receiver.otlp_receiver import OtlpTraceReceiver, ReceivedSpan
from atoms_devtools.trace_receiver.trace_tree import every_hop_arrived, render_trace_tree

pytestmark = pytest.mark.asyncio(loop_scope="module")

AGENT, MCP, AUTH = "atoms-agent", "atoms-mcp", "atoms-auth"
CALL_TOOL = "/atoms.agent.v1.AgentService/CallTool"
VALIDATE_TOKEN = "/atoms.auth.v1.AuthService/ValidateToken"


@dataclass
class TracedStack:
    stack: DemoStack
    traces: OtlpTraceReceiver
    agent: agent_pb2_grpc.AgentServiceStub


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def traced() -> AsyncIterator[TracedStack]:
    traces = OtlpTraceReceiver()
    await traces.start()
    try:
        async with (
            running_stack(
                Path(tempfile.mkdtemp(prefix="atoms-trace-")), tracing_env=traces.exporter_environment()
            ) as stack,
            grpc.aio.insecure_channel(stack.agent_address) as channel,
        ):
            yield TracedStack(stack, traces, agent_pb2_grpc.AgentServiceStub(channel))
    finally:
        await traces.stop()


async def _signed_in(stack: DemoStack, email: str) -> SignedInUser:
    async with httpx.AsyncClient(timeout=10) as http:
        return await sign_in(stack.front_end, http, email=email, say=lambda hop: None)


async def _traced_whoami(
    traced: TracedStack, token: str, request_id: str
) -> tuple[str, str, list[ReceivedSpan]]:
    """Call whoami through the agent under a fresh trace; return (trace id, caller span id, spans)."""
    trace_id, caller_span_id = secrets.token_hex(16), secrets.token_hex(8)
    request = agent_pb2.CallToolRequest(server_name="atoms", tool_name="whoami")
    metadata = (
        ("authorization", f"Bearer {token}"),
        ("traceparent", f"00-{trace_id}-{caller_span_id}-01"),
        ("x-request-id", request_id),
    )
    reply = await traced.agent.CallTool(request, metadata=metadata, timeout=30)
    assert not reply.is_error
    spans = await traced.traces.wait_for_trace(
        trace_id, lambda spans: every_hop_arrived(spans, root_service=AGENT), timeout_s=20
    )
    print("\n".join(render_trace_tree(spans)))  # shown when the test fails
    return trace_id, caller_span_id, spans


def _one(spans: list[ReceivedSpan], service: str, name: str, kind: str) -> ReceivedSpan:
    found = [span for span in spans if (span.service, span.name, span.kind) == (service, name, kind)]
    assert len(found) == 1, f"expected one {kind} span {name!r} from {service}, got {len(found)}"
    return found[0]


def _children(spans: list[ReceivedSpan], parent: ReceivedSpan) -> list[ReceivedSpan]:
    return [span for span in spans if span.parent_span_id == parent.span_id]


async def test_one_tool_call_is_one_trace_across_agent_mcp_and_auth_with_the_right_parents(
    traced: TracedStack,
) -> None:
    # A user no earlier call signed in: neither the agent nor the MCP has the token cached.
    user = await _signed_in(traced.stack, "grace@acme.test")
    trace_id, caller_span_id, spans = await _traced_whoami(traced, user.access_token, "req-trace-first")

    assert {span.service for span in spans} == {AGENT, MCP, AUTH}
    assert {span.trace_id for span in spans} == {trace_id}

    # agent: the RPC's SERVER span is the child of the caller's span ...
    call = _one(spans, AGENT, CALL_TOOL, "SERVER")
    assert call.parent_span_id == caller_span_id
    assert call.attributes["atoms.auth_client.cache"] == "miss"
    assert call.attributes["atoms.request_id"] == "req-trace-first"
    # ... which asked the auth service about the token (agent CLIENT -> auth SERVER) ...
    agent_asks = _one(spans, AGENT, VALIDATE_TOKEN, "CLIENT")
    assert agent_asks.parent_span_id == call.span_id
    (auth_for_agent,) = _children(spans, agent_asks)
    assert (auth_for_agent.service, auth_for_agent.name, auth_for_agent.kind) == (
        AUTH,
        VALIDATE_TOKEN,
        "SERVER",
    )
    assert auth_for_agent.attributes["atoms.auth.token_cache"] == "miss"
    # ... and called the tool on the Atoms MCP (agent CLIENT -> MCP SERVER).
    tool_call = _one(spans, AGENT, "tools/call whoami", "CLIENT")
    assert tool_call.parent_span_id == call.span_id
    mcp_requests = _children(spans, tool_call)
    assert mcp_requests, "the MCP's HTTP span must be the child of the agent's tools/call span"
    assert {(span.service, span.name, span.kind) for span in mcp_requests} == {
        (MCP, "POST /api/mcp", "SERVER")
    }
    # The agent passed its request id on: the MCP's spans (and log lines) carry it.
    assert {span.attributes["atoms.request_id"] for span in mcp_requests} == {"req-trace-first"}

    # MCP: the token's validation (MCP CLIENT -> auth SERVER) under one of its HTTP spans,
    mcp_asks = _one(spans, MCP, VALIDATE_TOKEN, "CLIENT")
    assert mcp_asks.parent_span_id in {span.span_id for span in mcp_requests}
    (auth_for_mcp,) = _children(spans, mcp_asks)
    assert (auth_for_mcp.service, auth_for_mcp.kind) == (AUTH, "SERVER")
    # and FastMCP's own span of the tool under the HTTP span of the tools/call request.
    fastmcp_tool = [span for span in spans if span.service == MCP and span.name == "tools/call whoami"]
    assert len(fastmcp_tool) == 1
    assert fastmcp_tool[0].parent_span_id in {span.span_id for span in mcp_requests}

    # Health checks (the agent and the MCP ask the auth service's every 2 s) are never traced.
    assert not [span for span in traced.traces.spans() if span.name.startswith("/grpc.health.")]
    # Every span but the root has its parent in the trace.
    ids = {span.span_id for span in spans}
    assert [span for span in spans if span.parent_span_id not in ids] == [call]
    # Spans carry the token's fingerprint, never the token.
    assert auth_for_agent.attributes["atoms.token.fingerprint"] == call.attributes["atoms.token.fingerprint"]
    assert user.access_token not in json.dumps([span.attributes for span in spans])


async def test_a_second_call_within_the_cache_window_has_no_auth_span(traced: TracedStack) -> None:
    user = await _signed_in(traced.stack, "hedy@globex.test")
    await _traced_whoami(traced, user.access_token, "req-trace-warm-up")

    _, _, spans = await _traced_whoami(traced, user.access_token, "req-trace-cached")

    assert {span.service for span in spans} == {AGENT, MCP}
    assert _one(spans, AGENT, CALL_TOOL, "SERVER").attributes["atoms.auth_client.cache"] == "hit"
    assert not [span for span in spans if span.name == VALIDATE_TOKEN]
    mcp_http = [
        span
        for span in spans
        if span.service == MCP and span.kind == "SERVER" and span.name == "POST /api/mcp"
    ]
    assert mcp_http
    assert all(span.attributes["atoms.auth_client.cache"] == "hit" for span in mcp_http)


async def test_the_agent_and_mcp_log_lines_of_a_call_carry_its_request_id_and_trace_id(
    traced: TracedStack,
) -> None:
    user = await _signed_in(traced.stack, "ada@acme.test")
    request_id = f"req-logs-{secrets.token_hex(4)}"
    trace_id, _, _ = await _traced_whoami(traced, user.access_token, request_id)

    def lines_of(name: str) -> list[dict[str, Any]]:
        text = (traced.stack.workdir / f"{name}.log").read_text(encoding="utf-8")
        parsed = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        return [line for line in parsed if line.get("request_id") == request_id]

    agent_lines, mcp_lines = lines_of("agent"), lines_of("atoms-mcp")
    assert any(line.get("rpc_method") == CALL_TOOL for line in agent_lines)
    assert any(line["message"] == "POST /api/mcp 200" for line in mcp_lines)
    # Every line written for the call is inside one of its spans: all carry the call's trace id.
    assert {line.get("trace_id") for line in agent_lines + mcp_lines} == {trace_id}


async def test_a_chat_on_the_agents_http_face_is_one_trace_down_to_the_mcp_tool(traced: TracedStack) -> None:
    user = await _signed_in(traced.stack, "ada@acme.test")
    trace_id, caller_span_id = secrets.token_hex(16), secrets.token_hex(8)
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{traced.stack.agent_http_url}/v1/chat/completions",
            headers={
                "authorization": f"Bearer {user.access_token}",
                "traceparent": f"00-{trace_id}-{caller_span_id}-01",
            },
            json={"messages": [{"role": "user", "content": "who am I?"}]},
        )
    assert response.status_code == 200
    spans = await traced.traces.wait_for_trace(
        trace_id, lambda spans: every_hop_arrived(spans, root_service=AGENT), timeout_s=20
    )
    print("\n".join(render_trace_tree(spans)))

    chat = _one(spans, AGENT, "POST /v1/chat/completions", "SERVER")
    assert chat.parent_span_id == caller_span_id
    assert chat.attributes["atoms.request_id"] == response.headers["x-request-id"]
    tool_call = _one(spans, AGENT, "tools/call whoami", "CLIENT")
    mcp_requests = _children(spans, tool_call)
    assert {(span.service, span.name) for span in mcp_requests} == {(MCP, "POST /api/mcp")}
    assert {span.service for span in spans} >= {AGENT, MCP, AUTH}
