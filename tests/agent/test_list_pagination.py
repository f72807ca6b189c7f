"""ListMcpServers and ListTools in pages: page_size, page_token, next_page_token, clean refusals."""

from __future__ import annotations

import functools

import grpc
import pytest

from atoms.agent.v1 import agent_pb2
from atoms_agent_client import AgentGrpcClient, static_session
from tests.support.auth_calls import refusal_of
from tests.support.fake_dns import PUBLIC_ADDRESS, FakeDns

USER = agent_pb2.MCP_SERVER_SCOPE_USER


@pytest.fixture
def agent_stack_factory(agent_stack_factory):
    dns = FakeDns({"x.example": [PUBLIC_ADDRESS]})
    return functools.partial(agent_stack_factory, resolver=dns)


async def _register_servers(stack, token: str, count: int) -> None:
    for index in range(count):
        await stack.stub.RegisterMcpServer(
            agent_pb2.RegisterMcpServerRequest(
                name=f"s{index}", url=f"https://x.example/{index}", scope=USER
            ),
            metadata=stack.metadata(token),
            timeout=10,
        )


async def _list(stack, token: str, **fields: object) -> agent_pb2.ListMcpServersResponse:
    return await stack.stub.ListMcpServers(
        agent_pb2.ListMcpServersRequest(**fields), metadata=stack.metadata(token), timeout=10
    )


async def test_pages_of_servers_follow_each_other_without_gaps_or_repeats(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    await _register_servers(stack, token, 5)
    everything = [server.name for server in (await _list(stack, token)).servers]
    assert len(everything) == 6  # the system server, then the five registrations
    pages, page_token = [], ""
    while True:
        reply = await _list(stack, token, page_size=2, page_token=page_token)
        pages.append([server.name for server in reply.servers])
        page_token = reply.next_page_token
        if not page_token:
            break
    assert pages == [everything[0:2], everything[2:4], everything[4:6]]


async def test_the_python_client_follows_every_page(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    await _register_servers(stack, token, 3)
    async with AgentGrpcClient(
        target=f"127.0.0.1:{stack.agent.port}", session=static_session(token)
    ) as client:
        names = [server.name for server in await client.list_mcp_servers()]
    assert names == [server.name for server in (await _list(stack, token)).servers]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"page_size": -1}, id="a negative page size"),
        pytest.param({"page_token": "not-a-token"}, id="garbage"),
        pytest.param({"page_token": "x" * 300}, id="an oversized token"),
    ],
)
async def test_bad_paging_fields_are_invalid_request_naming_the_field(agent_stack_factory, fields) -> None:
    stack = await agent_stack_factory()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _list(stack, stack.token(), **fields)
    refusal = refusal_of(caught.value)
    assert (refusal.code, refusal.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert refusal.metadata["field"] == next(iter(fields))


async def test_a_page_token_of_another_call_or_filter_is_refused(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    await _register_servers(stack, token, 3)
    servers_token = (await _list(stack, token, page_size=1)).next_page_token
    assert servers_token
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.stub.ListTools(
            agent_pb2.ListToolsRequest(page_token=servers_token), metadata=stack.metadata(token), timeout=10
        )
    assert refusal_of(caught.value).reason == "INVALID_REQUEST"


async def test_tools_come_in_pages_too(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    whole = await stack.stub.ListTools(
        agent_pb2.ListToolsRequest(server_name="atoms"), metadata=stack.metadata(token), timeout=10
    )
    assert len(whole.tools) >= 2, "the recording first-party server offers several tools"
    assert whole.next_page_token == ""
    first = await stack.stub.ListTools(
        agent_pb2.ListToolsRequest(server_name="atoms", page_size=1),
        metadata=stack.metadata(token),
        timeout=10,
    )
    assert [tool.name for tool in first.tools] == [whole.tools[0].name]
    second = await stack.stub.ListTools(
        agent_pb2.ListToolsRequest(server_name="atoms", page_size=1, page_token=first.next_page_token),
        metadata=stack.metadata(token),
        timeout=10,
    )
    assert [tool.name for tool in second.tools] == [whole.tools[1].name]
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # the same token with another filter
        await stack.stub.ListTools(
            agent_pb2.ListToolsRequest(server_name="", page_token=first.next_page_token),
            metadata=stack.metadata(token),
            timeout=10,
        )
    assert refusal_of(caught.value).reason == "INVALID_REQUEST"
