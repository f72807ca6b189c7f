"""The dev model as the agent's model, end to end: Chat runs the real Atoms MCP tools it picks.

In-process on loopback: the local AuthKit, the auth service trusting it, the real Atoms MCP
service, the dev model, and the agent configured through the same ATOMS_LLM_* variables a
developer sets. The user's token goes from the client to the agent to the Atoms MCP; the
model sees the tools and their results, never the token (the suite's log check would fail a
test that logged it).
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms_agent.server import AgentServer
from atoms_agent.settings import load_agent_settings
from atoms_auth.settings import load_auth_settings
from atoms_devtools.authkit_emulator import EmulatorKeyStore, mint_token, running_emulator
from atoms_devtools.dev_model import DEV_MODEL_ID, STAND_IN_NOTE, running_dev_model
from atoms_mcp.server import route_fastmcp_logs
from tests.mcp.conftest import wait_until_ready
from tests.support.mcp_service import start_mcp_service
from tests.support.token_factory import remember

CLIENT_ID = "client_dev_model_tests"


@dataclass
class DevStack:
    """The running stack, a gRPC stub of the agent, and a token minter."""

    issuer: str
    key_store: EmulatorKeyStore
    agent: AgentServer
    stub: agent_pb2_grpc.AgentServiceStub

    def token(self, subject: str, org_id: str, **claims: Any) -> str:
        return remember(
            mint_token(self.key_store, issuer=self.issuer, subject=subject, org_id=org_id, **claims)
        )

    async def chat(self, token: str, *messages: tuple[str, str]) -> list[agent_pb2.ChatResponse]:
        request = agent_pb2.ChatRequest(
            messages=[agent_pb2.ChatMessage(role=role, content=content) for role, content in messages]
        )
        metadata = (("authorization", f"Bearer {token}"),)
        return [event async for event in self.stub.Chat(request, metadata=metadata, timeout=30)]


@pytest.fixture
async def dev_stack(tmp_path: Path, start_auth_server: Callable[..., Any]) -> AsyncIterator[DevStack]:
    route_fastmcp_logs()  # FastMCP's records reach the root handler, and the token check
    async with contextlib.AsyncExitStack() as stack:
        keys = EmulatorKeyStore(path=tmp_path / "authkit" / "keys.json")
        issuer = await stack.enter_async_context(running_emulator(keys))
        auth_settings = load_auth_settings(
            {
                "WORKOS_CLIENT_ID": CLIENT_ID,
                "WORKOS_API_BASE_URL": f"{issuer}/",
                "ATOMS_INTERNAL_TOKEN": remember(secrets.token_urlsafe(36)),
            }
        )
        auth = await start_auth_server(replace(auth_settings, metrics_port=None))
        await wait_until_ready(auth)
        auth_address = f"127.0.0.1:{auth.port}"
        mcp_url = await start_mcp_service(stack, tmp_path, issuer=issuer, auth_address=auth_address)
        model_url = await stack.enter_async_context(running_dev_model())
        settings = load_agent_settings(
            {
                "ATOMS_AUTH_ADDR": auth_address,
                "ATOMS_MCP_URL": mcp_url,
                "ATOMS_AGENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'agent.db'}",
                "ATOMS_LLM_BASE_URL": model_url,
                "ATOMS_LLM_MODEL": DEV_MODEL_ID,
            },
            overrides={"port": 0, "http_port": 0},
        )
        agent = AgentServer(settings)
        await agent.start()
        stack.push_async_callback(agent.stop)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{agent.port}")
        stack.push_async_callback(channel.close)
        yield DevStack(issuer, keys, agent, agent_pb2_grpc.AgentServiceStub(channel))


def _text(events: list[agent_pb2.ChatResponse]) -> str:
    return "".join(event.text_delta.text for event in events if event.HasField("text_delta"))


def _tool_calls(events: list[agent_pb2.ChatResponse]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (e.tool_call.server_name, e.tool_call.tool_name, json_format.MessageToDict(e.tool_call.arguments))
        for e in events
        if e.HasField("tool_call")
    ]


async def test_who_am_i_streams_a_whoami_call_on_the_atoms_mcp_and_an_answer_naming_the_user(
    dev_stack: DevStack,
) -> None:
    token = dev_stack.token("user_ada", "org_acme", role="admin")
    events = await dev_stack.chat(token, ("user", "Who am I?"))
    kinds = [event.WhichOneof("event") for event in events]
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("text_delta")
    assert _tool_calls(events) == [("atoms", "whoami", {})]
    result = next(event.tool_result.result for event in events if event.HasField("tool_result"))
    assert not result.is_error
    assert json_format.MessageToDict(result.structured_content)["subject"] == "user_ada"
    answer = _text(events)
    assert "user_ada" in answer
    assert "org_acme" in answer
    assert answer.endswith(STAND_IN_NOTE)
    assert events[-1].done.finish_reason == "stop"


async def test_a_project_created_in_chat_is_listed_in_the_next_chat(dev_stack: DevStack) -> None:
    token = dev_stack.token("user_ada", "org_acme", role="admin")
    created = await dev_stack.chat(token, ("user", "create a project called Apollo"))
    assert _tool_calls(created) == [("atoms", "create_project", {"name": "Apollo"})]
    assert 'I created the project "Apollo" (prj_' in _text(created)
    listed = await dev_stack.chat(
        token,
        ("user", "create a project called Apollo"),
        ("assistant", _text(created)),
        ("user", "list my projects"),
    )
    assert _tool_calls(listed) == [("atoms", "list_projects", {})]
    assert 'I found 1 project: "Apollo" (prj_' in _text(listed)


async def test_another_organization_does_not_see_the_project(dev_stack: DevStack) -> None:
    await dev_stack.chat(
        dev_stack.token("user_ada", "org_acme", role="admin"), ("user", "create a project called Apollo")
    )
    listed = await dev_stack.chat(
        dev_stack.token("user_hedy", "org_globex", role="admin"), ("user", "list my projects")
    )
    assert "There are no projects here yet." in _text(listed)


async def test_a_project_named_by_name_is_found_through_list_projects_before_the_document_is_created(
    dev_stack: DevStack,
) -> None:
    token = dev_stack.token("user_ada", "org_acme", role="admin")
    await dev_stack.chat(token, ("user", "create a project called Apollo"))
    events = await dev_stack.chat(token, ("user", "create a document called Spec in project Apollo"))
    calls = _tool_calls(events)
    assert [(server, tool) for server, tool, _ in calls] == [
        ("atoms", "list_projects"),
        ("atoms", "create_document"),
    ]
    assert calls[1][2]["title"] == "Spec"
    assert calls[1][2]["project_id"].startswith("prj_")
    assert 'I created the document "Spec" (doc_' in _text(events)


async def test_a_write_the_user_may_not_make_is_answered_with_the_atoms_mcps_reason(
    dev_stack: DevStack,
) -> None:
    token = dev_stack.token("user_grace", "org_acme")  # a member without projects:write
    events = await dev_stack.chat(token, ("user", "create a project called Apollo"))
    result = next(event.tool_result.result for event in events if event.HasField("tool_result"))
    assert result.is_error
    answer = _text(events)
    assert answer.startswith("create_project did not succeed:")
    assert "projects:write" in answer


async def test_the_agents_http_face_streams_the_dev_models_answer(dev_stack: DevStack) -> None:
    token = dev_stack.token("user_ada", "org_acme", role="admin")
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream(
            "POST",
            f"http://127.0.0.1:{dev_stack.agent.http_port}/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"messages": [{"role": "user", "content": "who am I"}], "stream": True},
        ) as response,
    ):
        assert response.status_code == 200
        events = [line[len("data: ") :] async for line in response.aiter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    assert "user_ada" in text
    assert {chunk["model"] for chunk in chunks} == {DEV_MODEL_ID}
