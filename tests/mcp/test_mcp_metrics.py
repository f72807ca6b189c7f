"""The Atoms MCP serves Prometheus `/metrics` on its own port: HTTP requests by route template,
method, status and reason, and their latency. Counts are compared before and after (the
registry is shared by the whole test process)."""

from __future__ import annotations

import httpx

from tests.mcp.conftest import AuthStack, StartMcp
from tests.support.prometheus_scrape import sample, scrape

REQUESTS = "atoms_http_requests_total"
LATENCY_COUNT = "atoms_http_request_duration_seconds_count"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
MCP_HEADERS = {"accept": "application/json, text/event-stream"}


async def test_requests_are_counted_by_route_template_status_and_reason(
    auth_stack: AuthStack, start_mcp: StartMcp
) -> None:
    mcp = await start_mcp(auth_stack, metrics_port=0)
    port = mcp.server.metrics_port
    assert port is not None
    path = mcp.settings.path
    before = await scrape(port)
    async with httpx.AsyncClient(base_url=mcp.base_url, timeout=10) as http:
        assert (await http.get("/health")).status_code == 200
        assert (await http.post(path, json=INITIALIZE, headers=MCP_HEADERS)).status_code == 401
        token = auth_stack.token()
        accepted = await http.post(
            path, json=INITIALIZE, headers={**MCP_HEADERS, "authorization": f"Bearer {token}"}
        )
        assert accepted.status_code == 200
        for probe in ("/nope", "/nope/again?x=1"):
            assert (await http.get(probe)).status_code == 404
        unseen = auth_stack.token(subject="user_bob")  # not in the MCP's answer cache
        await auth_stack.auth.stop()  # the auth service is gone: a valid token gets 503, not 401
        down = await http.post(
            path, json=INITIALIZE, headers={**MCP_HEADERS, "authorization": f"Bearer {unseen}"}
        )
        assert down.status_code == 503
    after = await scrape(port)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, service="mcp", **labels) - sample(before, name, service="mcp", **labels)

    assert delta(REQUESTS, route="/health", method="GET", status="200", reason="") == 1
    assert delta(REQUESTS, route=path, method="POST", status="401", reason="") == 1
    assert delta(REQUESTS, route=path, method="POST", status="200", reason="") == 1
    assert delta(REQUESTS, route=path, method="POST", status="503", reason="AUTH_SERVICE_UNAVAILABLE") == 1
    assert (
        delta(REQUESTS, route="unmatched", method="GET", status="404", reason="") == 2
    )  # never the raw path
    assert delta(LATENCY_COUNT, route=path, method="POST") == 3
    assert not any(name == REQUESTS and ("route", "/nope") in labels for name, labels in after)


async def test_without_a_metrics_port_nothing_listens_for_metrics(
    auth_stack: AuthStack, start_mcp: StartMcp
) -> None:
    mcp = await start_mcp(auth_stack)
    assert mcp.server.metrics_port is None
    async with httpx.AsyncClient(base_url=mcp.base_url, timeout=10) as http:
        assert (await http.get("/metrics")).status_code == 404  # never on the public port
