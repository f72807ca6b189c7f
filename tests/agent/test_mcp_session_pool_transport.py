"""The pool's transport hook (for the egress guard): what it gives is used, what it refuses is the error."""

from __future__ import annotations

import httpx2
import pytest

from atoms_agent.errors import McpLimitExceededError, McpServerForbiddenError
from atoms_agent.mcp_client_limits import McpClientLimits
from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_agent.mcp_registry import ServerScope
from atoms_agent.mcp_session_pool import McpSessionPool
from atoms_grpc.principal import Principal, PrincipalKind

ALICE = Principal(kind=PrincipalKind.USER, subject="user_alice", issuer="https://issuer.test", org_id="org_a")


class _CountingTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport, counting the requests sent through it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.sent += 1
        return await super().handle_async_request(request)


def _server(url: str) -> ComposedMcpServer:
    return ComposedMcpServer(
        name="vendor", url=url, scope=ServerScope.USER, first_party=False, forwards_user_token=False
    )


async def test_sessions_connect_through_the_transport_the_factory_gives(recording_mcp_factory) -> None:
    vendor = await recording_mcp_factory("vendor")
    given: list[_CountingTransport] = []

    def factory(server: ComposedMcpServer) -> httpx2.AsyncBaseTransport:
        given.append(_CountingTransport())
        return given[-1]

    pool = McpSessionPool(idle_s=60, max_entries=10, request_timeout_s=10, http_transport_factory=factory)
    try:
        result = await pool.call_tool(
            _server(vendor.url), "echo", {"text": "x"}, principal=ALICE, timeout_s=10
        )
    finally:
        await pool.close()

    assert result.content[0].text == "vendor says x"
    assert len(given) == 1
    assert given[0].sent == len(vendor.requests) > 0


async def test_an_agent_error_from_the_factory_reaches_the_caller_unchanged(recording_mcp_factory) -> None:
    vendor = await recording_mcp_factory("vendor")

    def refuse(server: ComposedMcpServer) -> httpx2.AsyncBaseTransport:
        raise McpServerForbiddenError(f"{server.name} may not be reached")

    pool = McpSessionPool(idle_s=60, max_entries=10, request_timeout_s=10, http_transport_factory=refuse)
    try:
        with pytest.raises(McpServerForbiddenError, match="vendor may not be reached"):
            await pool.list_tools(_server(vendor.url), principal=ALICE, timeout_s=10)
    finally:
        await pool.close()

    assert vendor.requests == []


async def test_the_byte_bound_applies_to_answers_from_the_factorys_transport(recording_mcp_factory) -> None:
    vendor = await recording_mcp_factory("vendor")
    pool = McpSessionPool(
        idle_s=60,
        max_entries=10,
        request_timeout_s=10,
        limits=McpClientLimits(max_response_bytes=64),
        http_transport_factory=lambda server: _CountingTransport(),
    )
    try:
        with pytest.raises(McpLimitExceededError) as caught:
            await pool.list_tools(_server(vendor.url), principal=ALICE, timeout_s=10)
    finally:
        await pool.close()

    assert caught.value.metadata == {"limit": "mcp_max_response_bytes"}
