"""AgentGrpcClient against the running agent, auth service and Atoms MCP, with emulator tokens."""

from __future__ import annotations

import socket

import grpc
import pytest

from atoms.agent.v1 import agent_pb2
from atoms_agent_client import (
    AGENT_UNREACHABLE,
    AgentError,
    AgentGrpcClient,
    AgentUnauthenticatedError,
    AgentUnavailableError,
    ChatMessage,
    static_session,
)
from tests.clients.conftest import ORG_ID, ClientStack, tampered

WHO_AM_I = [ChatMessage(role="user", content="who am I?")]


def _client(stack: ClientStack, token: str | None) -> AgentGrpcClient:
    return AgentGrpcClient(target=stack.agent_address, session=static_session(token), timeout_s=20)


async def test_call_tool_whoami_reaches_the_atoms_mcp_as_the_signed_in_user(client_stack) -> None:
    async with _client(client_stack, client_stack.token("user_grpc")) as agent:
        result = await agent.call_tool("atoms", "whoami")
    assert not result.is_error
    assert result.structured_content is not None
    me = result.structured_content
    assert (me["kind"], me["subject"], me["org_id"]) == ("user", "user_grpc", ORG_ID)


async def test_tool_arguments_reach_the_tool(client_stack) -> None:
    token = client_stack.token("user_writer", permissions=["projects:write"])
    async with _client(client_stack, token) as agent:
        created = await agent.call_tool("atoms", "create_project", {"name": "From the client"})
        listed = await agent.call_tool("atoms", "list_projects", {"limit": 5})
    assert created.structured_content is not None
    assert created.structured_content["name"] == "From the client"
    assert listed.structured_content is not None
    assert [p["name"] for p in listed.structured_content["projects"]] == ["From the client"]


async def test_composition_forwards_the_token_to_the_first_party_atoms_mcp_only(client_stack) -> None:
    async with _client(client_stack, client_stack.token()) as agent:
        servers = await agent.compose_mcp_servers()
    atoms = next(server for server in servers if server.name == "atoms")
    assert (atoms.first_party, atoms.forwards_user_token) == (True, True)
    assert atoms.headers["Authorization"] == "Bearer <forwarded user token>"


async def test_chat_streams_the_whoami_tool_call_its_result_and_the_answer(client_stack) -> None:
    async with _client(client_stack, client_stack.token("user_chat")) as agent:
        events = [event async for event in agent.chat(WHO_AM_I)]
    kinds = [event.WhichOneof("event") for event in events]
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("done")
    call = next(event.tool_call for event in events if event.HasField("tool_call"))
    assert (call.server_name, call.tool_name) == ("atoms", "whoami")
    answer = "".join(event.text_delta.text for event in events if event.HasField("text_delta"))
    assert '"subject":"user_chat"' in answer.replace(" ", "")
    assert events[-1].done.finish_reason == "stop"


async def test_a_tampered_token_is_refused_with_the_auth_services_reason(client_stack) -> None:
    async with _client(client_stack, tampered(client_stack.token())) as agent:
        with pytest.raises(AgentUnauthenticatedError) as caught:
            await agent.call_tool("atoms", "whoami")
    error = caught.value
    assert (error.status_code, error.reason, error.domain) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "INVALID_SIGNATURE",
        "auth.atoms.internal",
    )
    assert error.http_status is None


async def test_no_token_is_refused_as_missing(client_stack) -> None:
    async with _client(client_stack, None) as agent:
        with pytest.raises(AgentUnauthenticatedError) as caught:
            await agent.list_mcp_servers()
    assert caught.value.reason == "MISSING_TOKEN"


async def test_a_refused_chat_raises_before_any_event(client_stack) -> None:
    async with _client(client_stack, client_stack.expired_token()) as agent:
        with pytest.raises(AgentUnauthenticatedError) as caught:
            _ = [event async for event in agent.chat(WHO_AM_I)]
    assert caught.value.reason == "TOKEN_EXPIRED"


async def test_an_unknown_server_is_not_found_with_the_agents_reason(client_stack) -> None:
    async with _client(client_stack, client_stack.token()) as agent:
        with pytest.raises(AgentError) as caught:
            await agent.call_tool("atoms-mcp", "whoami")
    assert (caught.value.status_code, caught.value.reason, caught.value.domain) == (
        grpc.StatusCode.NOT_FOUND,
        "MCP_SERVER_NOT_FOUND",
        "agent.atoms.internal",
    )


async def test_registering_and_deleting_a_user_server_round_trips(client_stack) -> None:
    async with _client(client_stack, client_stack.token("user_registry")) as agent:
        server = await agent.register_mcp_server(
            name="docs", url="https://docs.example/mcp", scope=agent_pb2.MCP_SERVER_SCOPE_USER
        )
        names = [entry.name for entry in await agent.list_mcp_servers()]
        await agent.delete_mcp_server(server.id)
        after = [entry.name for entry in await agent.list_mcp_servers()]
    assert "docs" in names
    assert "docs" not in after


async def test_an_agent_that_is_not_running_is_unavailable_and_unreachable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    async with AgentGrpcClient(target=f"127.0.0.1:{port}", session=static_session("x"), timeout_s=5) as agent:
        with pytest.raises(AgentUnavailableError) as caught:
            await agent.list_tools()
    assert caught.value.reason == AGENT_UNREACHABLE
