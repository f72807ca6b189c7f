"""Where registered MCP servers may be: public destinations, checked at registration and per connection."""

from __future__ import annotations

import ipaddress
import socket

import grpc
import pytest

from atoms.agent.v1 import agent_pb2
from tests.support.auth_calls import refusal_of
from tests.support.fake_dns import PUBLIC_ADDRESS, FakeDns

USER = agent_pb2.MCP_SERVER_SCOPE_USER

INTERNAL_DESTINATIONS = {
    "https://127.0.0.1/mcp": "loopback",
    "https://[::1]/mcp": "IPv6 loopback",
    "https://localhost/mcp": "localhost",
    "https://169.254.169.254/latest/meta-data": "cloud metadata (link-local)",
    "https://10.0.0.5/mcp": "private 10/8",
    "https://172.16.0.1/mcp": "private 172.16/12",
    "https://192.168.1.1/mcp": "private 192.168/16",
    "https://100.64.0.1/mcp": "carrier-grade NAT",
    "https://0.0.0.0/mcp": "unspecified (reaches loopback on Linux)",
    "https://[fd00::1]/mcp": "IPv6 unique local",
    "https://[fe80::1]/mcp": "IPv6 link-local",
    "https://[::ffff:127.0.0.1]/mcp": "IPv4-mapped loopback",
    "https://[::ffff:169.254.169.254]/mcp": "IPv4-mapped metadata",
    "https://[2002:a00:1::]/mcp": "6to4 of 10.0.0.1",
    "https://[ff02::1]/mcp": "IPv6 multicast",
    "https://atoms-auth.atoms.svc.cluster.local/mcp": "*.cluster.local",
    "https://atoms-auth.atoms.svc/mcp": "*.svc",
    "https://metadata.google.internal/mcp": "*.internal",
    "https://printer.local/mcp": "*.local",
    "https://atoms-mcp:8000/mcp": "single-label name",
    "https://private.example/mcp": "a name resolving to a private address",
    "https://metadata.example/mcp": "a name resolving to the metadata address",
    "https://mapped.example/mcp": "a name resolving to an IPv4-mapped loopback address",
    "https://ula.example/mcp": "a name resolving to an IPv6 unique local address",
    "https://mixed.example/mcp": "a name resolving to a public and a private address",
    "https://nowhere.example/mcp": "a name that does not resolve",
}


def _internal_dns() -> FakeDns:
    return FakeDns(
        {
            "private.example": ["10.1.2.3"],
            "metadata.example": ["169.254.169.254"],
            "mapped.example": ["::ffff:127.0.0.1"],
            "ula.example": ["fd12:3456::1"],
            "mixed.example": [PUBLIC_ADDRESS, "10.0.0.1"],
            "public.example": [PUBLIC_ADDRESS],
            "localhost": ["127.0.0.1", "::1"],
        }
    )


async def _register(stack, token: str, name: str, url: str) -> agent_pb2.McpServer:
    reply = await stack.stub.RegisterMcpServer(
        agent_pb2.RegisterMcpServerRequest(name=name, url=url, scope=USER),
        metadata=stack.metadata(token),
        timeout=10,
    )
    return reply.server


async def _refusal_or_ok(stack, token: str, name: str, url: str) -> tuple[str, str, dict[str, str]] | str:
    try:
        await _register(stack, token, name, url)
    except grpc.aio.AioRpcError as err:
        refused = refusal_of(err)
        return refused.code.name, refused.reason, refused.metadata
    return "OK"


async def test_internal_destinations_are_refused_at_registration_naming_the_url(agent_stack_factory) -> None:
    stack = await agent_stack_factory(resolver=_internal_dns(), allow_loopback_mcp=False)
    token = stack.token()
    outcomes = {
        url: await _refusal_or_ok(stack, token, f"s{index}", url)
        for index, url in enumerate(INTERNAL_DESTINATIONS)
    }
    refused = ("INVALID_ARGUMENT", "INVALID_REQUEST", {"field": "url"})
    assert {url: outcome for url, outcome in outcomes.items() if outcome != refused} == {}
    assert await _refusal_or_ok(stack, token, "public", "https://public.example/mcp") == "OK"


async def test_every_dns_outcome_gets_the_same_refusal(agent_stack_factory) -> None:
    dns = _internal_dns()
    dns.hang("slow.example")
    stack = await agent_stack_factory(resolver=dns, allow_loopback_mcp=False, mcp_resolve_timeout_s=0.2)
    token = stack.token()
    messages = set()
    for name, host in (("a", "nowhere.example"), ("b", "slow.example"), ("c", "private.example")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _register(stack, token, name, f"https://{host}/mcp")
        messages.add(refusal_of(caught.value).message)
    dns.release()
    assert len(messages) == 1, messages
    assert "public addresses only" in messages.pop()


async def test_loopback_stays_allowed_for_development(agent_stack_factory) -> None:
    stack = await agent_stack_factory(resolver=_internal_dns(), allow_loopback_mcp=True)
    token = stack.token()
    assert await _refusal_or_ok(stack, token, "lit", "http://127.0.0.1:9/mcp") == "OK"
    assert await _refusal_or_ok(stack, token, "name", "http://localhost:9/mcp") == "OK"
    assert await _refusal_or_ok(stack, token, "priv", "https://10.0.0.5/mcp") != "OK"


async def test_an_operator_allow_list_admits_chosen_internal_destinations(agent_stack_factory) -> None:
    dns = _internal_dns()
    dns.answer("in-range.example", "10.20.3.4")
    stack = await agent_stack_factory(
        resolver=dns,
        allow_loopback_mcp=False,
        mcp_egress_allowed_networks=(ipaddress.ip_network("10.20.0.0/16"),),
        mcp_egress_allowed_hosts=frozenset({"mcp.corp.internal", "*.tools.corp"}),
    )
    token = stack.token()
    admitted = {
        "https://10.20.1.2/mcp": "OK",
        "https://in-range.example/mcp": "OK",
        "https://mcp.corp.internal/mcp": "OK",
        "https://jira.tools.corp/mcp": "OK",
    }
    refused = {
        "https://10.21.0.1/mcp": "INVALID_ARGUMENT",
        "https://private.example/mcp": "INVALID_ARGUMENT",
        "https://other.corp.internal/mcp": "INVALID_ARGUMENT",
        "https://tools.corp/mcp": "INVALID_ARGUMENT",
    }
    outcomes = {}
    for index, url in enumerate({**admitted, **refused}):
        outcome = await _refusal_or_ok(stack, token, f"s{index}", url)
        outcomes[url] = outcome if outcome == "OK" else outcome[0]
    assert outcomes == {**admitted, **refused}


async def test_a_name_rebound_to_loopback_after_registration_is_never_connected_to(
    agent_stack_factory, recording_mcp_factory
) -> None:
    inside = await recording_mcp_factory("inside")
    port = int(inside.url.rsplit(":", 1)[1].split("/")[0])
    dns = FakeDns({"rebind.example": [PUBLIC_ADDRESS]})
    stack = await agent_stack_factory(resolver=dns, allow_loopback_mcp=False)
    token = stack.token()
    await _register(stack, token, "rebind", f"https://rebind.example:{port}/mcp")
    dns.answer("rebind.example", "127.0.0.1")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.stub.CallTool(
            agent_pb2.CallToolRequest(server_name="rebind", tool_name="echo"),
            metadata=stack.metadata(token),
            timeout=10,
        )
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAVAILABLE, "MCP_UNAVAILABLE")
    assert dns.lookups.count("rebind.example") == 2  # at registration, and again to connect
    assert inside.requests == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_connection_failures_look_the_same_whatever_their_cause(agent_stack_factory) -> None:
    dns = FakeDns({name: [PUBLIC_ADDRESS] for name in ("blocked.example", "gone.example", "slow.example")})
    stack = await agent_stack_factory(resolver=dns, allow_loopback_mcp=True, mcp_resolve_timeout_s=0.3)
    token = stack.token()
    servers = {
        "refused": f"http://127.0.0.1:{_closed_port()}/mcp",
        "blocked": "https://blocked.example/mcp",
        "gone": "https://gone.example/mcp",
        "slow": "https://slow.example/mcp",
    }
    for name, url in servers.items():
        await _register(stack, token, name, url)
    dns.answer("blocked.example", "10.0.0.1")
    dns.answer("gone.example")
    dns.hang("slow.example")
    seen = set()
    for name in servers:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stack.stub.CallTool(
                agent_pb2.CallToolRequest(server_name=name, tool_name="echo"),
                metadata=stack.metadata(token),
                timeout=10,
            )
        refused = refusal_of(caught.value)
        seen.add((refused.code, refused.reason, refused.message.replace(name, "<name>")))
    dns.release()
    assert seen == {
        (grpc.StatusCode.UNAVAILABLE, "MCP_UNAVAILABLE", "MCP server <name> could not be reached")
    }
