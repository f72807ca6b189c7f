"""The agent's `/metrics`: its HTTP face (requests by route template, method, status and reason,
and their latency), its MCP sessions, and its auth client."""

from __future__ import annotations

import httpx

from atoms.agent.v1 import agent_pb2
from tests.support.prometheus_scrape import sample, scrape
from tests.support.stateful_mcp_servers import struct_args

REQUESTS = "atoms_http_requests_total"


async def test_http_face_requests_are_counted_with_the_refusal_reason(agent_stack_factory) -> None:
    stack = await agent_stack_factory(metrics_port=0)
    port = stack.agent.metrics_port
    assert port is not None
    before = await scrape(port)
    chat = {"messages": [{"role": "user", "content": "who am I?"}]}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.agent.http_port}", timeout=10) as http:
        assert (await http.get("/health")).status_code == 200
        assert (await http.post("/v1/chat/completions", json=chat)).status_code == 401
        tampered = stack.token()[:-4] + "AAAA"
        refused = await http.post(
            "/v1/chat/completions", json=chat, headers={"authorization": f"Bearer {tampered}"}
        )
        assert refused.status_code == 401
        assert (await http.get("/v1/secret-path-1234")).status_code == 404
    after = await scrape(port)

    def delta(**labels: str) -> float:
        return sample(after, REQUESTS, service="agent", **labels) - sample(
            before, REQUESTS, service="agent", **labels
        )

    assert delta(route="/health", method="GET", status="200", reason="") == 1
    assert delta(route="/v1/chat/completions", method="POST", status="401", reason="MISSING_TOKEN") == 1
    assert delta(route="/v1/chat/completions", method="POST", status="401", reason="INVALID_SIGNATURE") == 1
    assert delta(route="unmatched", method="GET", status="404", reason="") == 1
    assert not any("secret-path" in value for _, labels in after for _, value in labels)


async def test_the_agents_mcp_sessions_and_auth_client_calls_are_on_its_metrics(agent_stack_factory) -> None:
    stack = await agent_stack_factory(metrics_port=0)
    port = stack.agent.metrics_port
    assert port is not None
    before = await scrape(port)
    await stack.stub.CallTool(
        agent_pb2.CallToolRequest(server_name="atoms", tool_name="echo", arguments=struct_args(text="x")),
        metadata=stack.metadata(stack.token()),
        timeout=10,
    )
    after = await scrape(port)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("atoms_agent_mcp_sessions", state="open") == 1
    assert delta("atoms_agent_mcp_sessions", state="leased") == 0
    assert delta("atoms_auth_client_cache_lookups_total", result="miss") == 1
    assert delta("atoms_auth_client_calls_total", outcome="ok") == 1
    names = {name for name, _ in after}
    assert "atoms_agent_mcp_session_evictions_total" in names
