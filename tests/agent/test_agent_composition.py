"""Composition and forwarding: the user's token reaches first-party MCP servers and nobody else."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import struct_pb2

from atoms.agent.v1 import agent_pb2
from tests.support.auth_calls import refusal_of
from tests.support.token_factory import remember


def _args(**values: object) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


async def _register(stack, token: str, **fields: object) -> agent_pb2.McpServer:
    fields.setdefault("scope", agent_pb2.MCP_SERVER_SCOPE_USER)
    reply = await stack.stub.RegisterMcpServer(
        agent_pb2.RegisterMcpServerRequest(**fields), metadata=stack.metadata(token), timeout=10
    )
    return reply.server


async def test_composition_marks_the_token_forwarded_to_atoms_only_and_redacts_it(
    agent_stack_factory,
) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    reply = await stack.stub.ComposeMcpServers(
        agent_pb2.ComposeMcpServersRequest(), metadata=stack.metadata(token), timeout=10
    )
    (atoms,) = reply.servers
    assert (atoms.name, atoms.forwards_user_token, atoms.first_party) == ("atoms", True, True)
    assert atoms.headers["Authorization"] == "Bearer <forwarded user token>"
    assert token not in str(reply)


async def test_call_tool_reaches_atoms_with_the_users_token(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    reply = await stack.stub.CallTool(
        agent_pb2.CallToolRequest(server_name="atoms", tool_name="echo", arguments=_args(text="hi")),
        metadata=stack.metadata(token),
        timeout=10,
    )
    assert reply.content[0].text == "atoms says hi"
    assert not reply.is_error
    assert f"Bearer {token}" in stack.first_party.authorizations


@pytest.mark.parametrize("name", ["atoms-mcp", "atoms_mcp", "atoms-tools"])
async def test_user_server_named_like_atoms_on_another_origin_never_gets_the_token(
    agent_stack_factory, recording_mcp_factory, name: str
) -> None:
    stack = await agent_stack_factory()
    impostor = await recording_mcp_factory(name)
    token = stack.token()
    await _register(stack, token, name=name, url=impostor.url)
    composed = await stack.stub.ComposeMcpServers(
        agent_pb2.ComposeMcpServersRequest(), metadata=stack.metadata(token), timeout=10
    )
    entry = next(server for server in composed.servers if server.name == name)
    assert (entry.forwards_user_token, entry.first_party, dict(entry.headers)) == (False, False, {})
    reply = await stack.stub.CallTool(
        agent_pb2.CallToolRequest(server_name=name, tool_name="echo", arguments=_args(text="x")),
        metadata=stack.metadata(token),
        timeout=10,
    )
    assert reply.content[0].text == f"{name} says x"
    assert impostor.requests, "the impostor server was called"
    assert all(auth is None for auth in impostor.authorizations)


async def test_internal_auth_type_cannot_be_registered(agent_stack_factory, recording_mcp_factory) -> None:
    stack = await agent_stack_factory()
    other = await recording_mcp_factory("other")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _register(
            stack, stack.token(), name="sneaky", url=other.url, auth_type=agent_pb2.MCP_AUTH_TYPE_INTERNAL
        )
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason, refused.metadata) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_REQUEST",
        {"field": "auth_type"},
    )


async def test_stored_bearer_credential_is_sent_to_its_server_and_never_returned(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory()
    secret = remember("third-party-credential-" + "x" * 20)
    vendor = await recording_mcp_factory("vendor", required_bearer=secret)
    token = stack.token()
    registered = await _register(
        stack,
        token,
        name="vendor",
        url=vendor.url,
        auth_type=agent_pb2.MCP_AUTH_TYPE_BEARER,
        bearer_token=secret,
    )
    assert secret not in str(registered)
    listed = await stack.stub.ListMcpServers(
        agent_pb2.ListMcpServersRequest(), metadata=stack.metadata(token), timeout=10
    )
    composed = await stack.stub.ComposeMcpServers(
        agent_pb2.ComposeMcpServersRequest(), metadata=stack.metadata(token), timeout=10
    )
    assert secret not in str(listed) + str(composed)
    assert dict(next(s for s in composed.servers if s.name == "vendor").headers) == {
        "Authorization": "Bearer <redacted>"
    }
    reply = await stack.stub.CallTool(
        agent_pb2.CallToolRequest(server_name="vendor", tool_name="add", arguments=_args(a=2, b=3)),
        metadata=stack.metadata(token),
        timeout=10,
    )
    assert reply.content[0].text == "5"
    assert set(vendor.authorizations) == {f"Bearer {secret}"}


async def test_mcp_server_refusing_credentials_maps_to_unauthenticated(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory()
    vendor = await recording_mcp_factory("locked", required_bearer="the-right-one")
    token = stack.token()
    await _register(
        stack,
        token,
        name="locked",
        url=vendor.url,
        auth_type=agent_pb2.MCP_AUTH_TYPE_BEARER,
        bearer_token="wrong",
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.stub.CallTool(
            agent_pb2.CallToolRequest(server_name="locked", tool_name="echo", arguments=_args(text="x")),
            metadata=stack.metadata(token),
            timeout=10,
        )
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, "MCP_UNAUTHENTICATED")


async def test_unreachable_mcp_server_is_unavailable(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    await _register(stack, token, name="gone", url="http://127.0.0.1:1/mcp")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.stub.CallTool(
            agent_pb2.CallToolRequest(server_name="gone", tool_name="echo"),
            metadata=stack.metadata(token),
            timeout=10,
        )
    assert refusal_of(caught.value).reason == "MCP_UNAVAILABLE"


async def test_repeated_calls_reuse_one_mcp_session(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    for text in ("one", "two", "three"):
        await stack.stub.CallTool(
            agent_pb2.CallToolRequest(server_name="atoms", tool_name="echo", arguments=_args(text=text)),
            metadata=stack.metadata(token),
            timeout=10,
        )
    assert stack.first_party.handshakes == 1
    assert stack.first_party.count("tools/call") == 3


async def test_two_users_never_share_a_session(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    alice, bob = stack.token("user_alice"), stack.token("user_bob")
    for token in (alice, bob):
        await stack.stub.CallTool(
            agent_pb2.CallToolRequest(server_name="atoms", tool_name="echo", arguments=_args(text="x")),
            metadata=stack.metadata(token),
            timeout=10,
        )
    assert stack.first_party.handshakes == 2
    assert {f"Bearer {alice}", f"Bearer {bob}"} <= set(stack.first_party.authorizations)


async def test_list_tools_reports_each_servers_tools_and_failures(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    await _register(stack, token, name="gone", url="http://127.0.0.1:1/mcp")
    reply = await stack.stub.ListTools(
        agent_pb2.ListToolsRequest(), metadata=stack.metadata(token), timeout=15
    )
    assert {(tool.server_name, tool.name) for tool in reply.tools} == {("atoms", "echo"), ("atoms", "add")}
    assert [failure.server_name for failure in reply.failures] == ["gone"]


async def test_call_without_a_token_is_unauthenticated(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.stub.ComposeMcpServers(agent_pb2.ComposeMcpServersRequest(), timeout=10)
    assert refusal_of(caught.value).reason == "MISSING_TOKEN"


async def test_tampered_token_is_refused_with_the_auth_services_reason(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    tampered = remember(stack.token()[:-6] + "AAAAAA")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.stub.ComposeMcpServers(
            agent_pb2.ComposeMcpServersRequest(), metadata=stack.metadata(tampered), timeout=10
        )
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason, refused.domain) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "INVALID_SIGNATURE",
        "auth.atoms.internal",
    )


async def test_an_unknown_tool_is_not_found(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.stub.CallTool(
            agent_pb2.CallToolRequest(server_name="atoms", tool_name="no_such_tool"),
            metadata=stack.metadata(stack.token()),
            timeout=10,
        )
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "TOOL_NOT_FOUND")


async def test_a_tool_reporting_an_error_is_a_result_not_a_failure(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    reply = await stack.stub.CallTool(
        agent_pb2.CallToolRequest(server_name="atoms", tool_name="add", arguments=_args(a="x", b=1)),
        metadata=stack.metadata(stack.token()),
        timeout=10,
    )
    assert reply.is_error


async def test_registering_and_deleting_a_server_is_seen_by_the_next_call(
    agent_stack_factory, recording_mcp_factory
) -> None:
    """The agent keeps registry reads briefly; its own writes must show at once, for that caller only."""
    stack = await agent_stack_factory()
    vendor = await recording_mcp_factory("vendor")
    alice, bob = stack.token(subject="alice"), stack.token(subject="bob")
    add = agent_pb2.CallToolRequest(server_name="vendor", tool_name="add", arguments=_args(a=2, b=3))

    async def call(token: str) -> agent_pb2.CallToolResponse:
        return await stack.stub.CallTool(add, metadata=stack.metadata(token), timeout=10)

    async def refusal(token: str):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(token)
        return refusal_of(caught.value)

    not_found = (grpc.StatusCode.NOT_FOUND, "MCP_SERVER_NOT_FOUND")
    refused = await refusal(alice)  # an empty answer is now kept for alice
    assert (refused.code, refused.reason) == not_found
    registered = await _register(stack, alice, name="vendor", url=vendor.url)
    assert (await call(alice)).content[0].text == "5"
    refused = await refusal(bob)
    assert (refused.code, refused.reason) == not_found
    await stack.stub.DeleteMcpServer(
        agent_pb2.DeleteMcpServerRequest(id=registered.id), metadata=stack.metadata(alice), timeout=10
    )
    refused = await refusal(alice)
    assert (refused.code, refused.reason) == not_found
