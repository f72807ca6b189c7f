"""What a registered MCP server sends back is bounded: each excess is a clear error for that server.

The servers are real FastMCP servers whose `tools/list` answers are replaced by hostile ones
(tests/support/hostile_mcp.py); the agent runs with its default bounds unless a test says why not.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest

from atoms.agent.v1 import agent_pb2
from atoms_agent.mcp_client_limits import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_TOOL_PAGES,
    DEFAULT_MAX_TOOLS_PER_SERVER,
)
from tests.support.auth_calls import refusal_of
from tests.support.hostile_mcp import endless_pages, gzip_bomb, many_tools, sse_comment_flood, stalled


async def _register(stack, token: str, name: str, url: str) -> None:
    await stack.stub.RegisterMcpServer(
        agent_pb2.RegisterMcpServerRequest(name=name, url=url, scope=agent_pb2.MCP_SERVER_SCOPE_USER),
        metadata=stack.metadata(token),
        timeout=10,
    )


async def _list_refusal(stack, token: str, server_name: str):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.stub.ListTools(
            agent_pb2.ListToolsRequest(server_name=server_name), metadata=stack.metadata(token), timeout=20
        )
    return refusal_of(caught.value)


async def test_a_gzip_bomb_is_refused_at_the_byte_bound_after_decompression(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory()
    inflated = 8 * DEFAULT_MAX_RESPONSE_BYTES
    bomb = await recording_mcp_factory("bomb", answers={"tools/list": gzip_bomb(inflated)})
    token = stack.token()
    await _register(stack, token, "bomb", bomb.url)

    refused = await _list_refusal(stack, token, "bomb")

    assert (refused.code, refused.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "MCP_LIMIT_EXCEEDED")
    assert refused.metadata == {"limit": "mcp_max_response_bytes"}
    assert f"{DEFAULT_MAX_RESPONSE_BYTES} bytes" in refused.message


async def test_an_sse_answer_that_streams_comments_for_ever_is_refused_at_the_byte_bound(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory()
    flood = await recording_mcp_factory(
        "flood", answers={"tools/list": sse_comment_flood(8 * DEFAULT_MAX_RESPONSE_BYTES)}
    )
    token = stack.token()
    await _register(stack, token, "flood", flood.url)

    refused = await _list_refusal(stack, token, "flood")

    assert (refused.reason, refused.metadata) == ("MCP_LIMIT_EXCEEDED", {"limit": "mcp_max_response_bytes"})


async def test_a_server_whose_tool_pages_never_end_is_refused_at_the_page_bound(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory()
    endless = await recording_mcp_factory("endless", answers={"tools/list": endless_pages()})
    token = stack.token()
    await _register(stack, token, "endless", endless.url)

    refused = await _list_refusal(stack, token, "endless")

    assert (refused.reason, refused.metadata) == ("MCP_LIMIT_EXCEEDED", {"limit": "mcp_max_tool_pages"})
    assert endless.count("tools/list") == DEFAULT_MAX_TOOL_PAGES


async def test_a_server_listing_too_many_tools_is_refused_at_the_tool_bound(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory()
    crowded = await recording_mcp_factory(
        "crowded", answers={"tools/list": many_tools(DEFAULT_MAX_TOOLS_PER_SERVER + 1)}
    )
    token = stack.token()
    await _register(stack, token, "crowded", crowded.url)

    refused = await _list_refusal(stack, token, "crowded")

    assert (refused.reason, refused.metadata) == ("MCP_LIMIT_EXCEEDED", {"limit": "mcp_max_tools_per_server"})
    assert str(DEFAULT_MAX_TOOLS_PER_SERVER) in refused.message


async def test_a_listing_slower_than_its_bound_is_refused_before_the_calls_deadline(
    agent_stack_factory, recording_mcp_factory
) -> None:
    # A short listing bound, so the test does not wait the default 10 s; the call's own
    # deadline (20 s) stays far away, so only the listing bound can end it.
    stack = await agent_stack_factory(mcp_list_timeout_s=0.5)
    release = asyncio.Event()
    slow = await recording_mcp_factory("slow", answers={"tools/list": stalled(release)})
    token = stack.token()
    await _register(stack, token, "slow", slow.url)
    try:
        refused = await _list_refusal(stack, token, "slow")
    finally:
        release.set()

    assert (refused.reason, refused.metadata) == ("MCP_LIMIT_EXCEEDED", {"limit": "mcp_list_timeout_s"})


async def test_listing_every_server_reports_the_bomb_as_that_servers_failure_only(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory()
    bomb = await recording_mcp_factory(
        "bomb", answers={"tools/list": gzip_bomb(8 * DEFAULT_MAX_RESPONSE_BYTES)}
    )
    token = stack.token()
    await _register(stack, token, "bomb", bomb.url)

    reply = await stack.stub.ListTools(
        agent_pb2.ListToolsRequest(), metadata=stack.metadata(token), timeout=20
    )

    assert {(tool.server_name, tool.name) for tool in reply.tools} == {("atoms", "echo"), ("atoms", "add")}
    (failure,) = reply.failures
    assert failure.server_name == "bomb"
    assert "mcp_max_response_bytes" in failure.message
