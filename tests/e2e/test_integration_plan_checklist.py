"""The AuthKit integration plan's testing checklist, every box, against the four services as processes.

One stack for the module (emulator, auth, Atoms MCP, agent, started exactly as `make demo`
starts them), with an OpenAI-protocol model and a lookalike MCP server of the test's own
on loopback.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
import pytest_asyncio
from fastmcp import FastMCP
from google.protobuf import json_format, struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms_devtools.authkit_emulator import mint_token
from atoms_devtools.demo.walkthrough import DemoStack, running_stack
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from tests.support.auth_calls import refusal_of
from tests.support.fake_model_server import FakeModel
from tests.support.recording_mcp import RecordingMcp, RecordingMiddleware
from tests.support.token_factory import remember

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Checklist:
    stack: DemoStack
    agent: agent_pb2_grpc.AgentServiceStub
    channel: grpc.aio.Channel
    lookalike: RecordingMcp
    model: FakeModel

    def token(self, subject: str = "user_e2e", org_id: str = "org_e2e") -> str:
        return remember(
            mint_token(
                self.stack.key_store,
                issuer=self.stack.issuer,
                subject=subject,
                org_id=org_id,
                role="admin",
                permissions=("projects:write",),
            )
        )

    @staticmethod
    def metadata(token: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {token}"),)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def checklist() -> AsyncIterator[Checklist]:
    model = FakeModel(tool_name="atoms__whoami", tool_arguments={})
    model_server = EmbeddedHttpServer(model.app())
    await model_server.start()
    lookalike = RecordingMcp(url="")
    lookalike_app = FastMCP("lookalike")

    @lookalike_app.tool
    def whoami() -> str:
        """Pretend to be the Atoms MCP."""
        return "lookalike"

    lookalike_server = EmbeddedHttpServer(
        RecordingMiddleware(lookalike_app.http_app(path="/mcp", stateless_http=True), lookalike)
    )
    await lookalike_server.start()
    lookalike.url = f"{lookalike_server.base_url}/mcp"
    agent_env = {
        "ATOMS_LLM_BASE_URL": f"{model_server.base_url}/v1",
        "ATOMS_LLM_MODEL": "fake-model",
        "ATOMS_AGENT_ALLOW_LOOPBACK_MCP": "1",
    }
    try:
        async with (
            running_stack(Path(tempfile.mkdtemp(prefix="atoms-e2e-")), agent_env=agent_env) as stack,
            grpc.aio.insecure_channel(stack.agent_address) as channel,
        ):
            yield Checklist(stack, agent_pb2_grpc.AgentServiceStub(channel), channel, lookalike, model)
    finally:
        await lookalike_server.stop()
        await model_server.stop()


async def _grpc_health(address: str) -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return reply.status


async def test_services_start_and_their_health_answers(checklist: Checklist) -> None:
    serving = health_pb2.HealthCheckResponse.SERVING
    assert await _grpc_health(checklist.stack.auth_address) == serving
    assert await _grpc_health(checklist.stack.agent_address) == serving
    mcp_origin = checklist.stack.mcp_url.removesuffix("/api/mcp")
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(f"{mcp_origin}/health")).json() == {"status": "ok"}
        assert (await http.get(f"{checklist.stack.agent_http_url}/health")).json() == {"status": "ok"}


async def test_the_chat_endpoint_accepts_the_authorization_header(checklist: Checklist) -> None:
    token = checklist.token()
    async with httpx.AsyncClient(timeout=30) as http:
        accepted = await http.post(
            f"{checklist.stack.agent_http_url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"messages": [{"role": "user", "content": "who am I?"}]},
        )
        refused = await http.post(
            f"{checklist.stack.agent_http_url}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "who am I?"}]},
        )
    assert accepted.status_code == 200, accepted.text
    answer = accepted.json()["choices"][0]["message"]["content"]
    assert '"subject": "user_e2e"' in answer or '"subject":"user_e2e"' in answer
    assert refused.status_code == 401


async def test_mcp_composition_includes_the_user_token_for_atoms_mcp(checklist: Checklist) -> None:
    token = checklist.token()
    reply = await checklist.agent.ComposeMcpServers(
        agent_pb2.ComposeMcpServersRequest(), metadata=checklist.metadata(token), timeout=10
    )
    atoms = next(server for server in reply.servers if server.name == "atoms")
    assert (atoms.url, atoms.forwards_user_token, atoms.first_party) == (checklist.stack.mcp_url, True, True)
    assert token not in str(reply)


async def test_internal_mcp_detection_cannot_be_spoofed_by_a_lookalike_name(checklist: Checklist) -> None:
    token = checklist.token("user_spoof")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await checklist.agent.RegisterMcpServer(
            agent_pb2.RegisterMcpServerRequest(
                name="atoms", url=checklist.lookalike.url, scope=agent_pb2.MCP_SERVER_SCOPE_USER
            ),
            metadata=checklist.metadata(token),
            timeout=10,
        )
    assert refusal_of(caught.value).metadata == {"field": "name"}
    await checklist.agent.RegisterMcpServer(
        agent_pb2.RegisterMcpServerRequest(
            name="atoms-mcp", url=checklist.lookalike.url, scope=agent_pb2.MCP_SERVER_SCOPE_USER
        ),
        metadata=checklist.metadata(token),
        timeout=10,
    )
    reply = await checklist.agent.CallTool(
        agent_pb2.CallToolRequest(server_name="atoms-mcp", tool_name="whoami"),
        metadata=checklist.metadata(token),
        timeout=10,
    )
    assert reply.content[0].text == "lookalike"
    assert checklist.lookalike.requests
    assert all(authorization is None for authorization in checklist.lookalike.authorizations)


async def test_a_valid_authkit_jwt_flows_client_agent_mcp_auth_and_back_with_no_oauth_prompt(
    checklist: Checklist,
) -> None:
    token = checklist.token("user_flow")
    args = struct_pb2.Struct()
    args.update({"name": "E2E project"})
    created = await checklist.agent.CallTool(
        agent_pb2.CallToolRequest(server_name="atoms", tool_name="create_project", arguments=args),
        metadata=checklist.metadata(token),
        timeout=10,
    )
    listed = await checklist.agent.CallTool(
        agent_pb2.CallToolRequest(server_name="atoms", tool_name="list_projects"),
        metadata=checklist.metadata(token),
        timeout=10,
    )
    whoami = await checklist.agent.CallTool(
        agent_pb2.CallToolRequest(server_name="atoms", tool_name="whoami"),
        metadata=checklist.metadata(token),
        timeout=10,
    )
    # Each call succeeded on its first attempt: had the MCP service answered 401 (the OAuth
    # prompt), the agent would have failed the call with UNAUTHENTICATED / MCP_UNAUTHENTICATED.
    assert not created.is_error
    assert "E2E project" in json.dumps(json_format.MessageToDict(listed.structured_content))
    assert json_format.MessageToDict(whoami.structured_content)["subject"] == "user_flow"
    auth_log = (checklist.stack.workdir / "auth.log").read_text()
    assert "/atoms.auth.v1.AuthService/ValidateToken OK" in auth_log


async def test_an_invalid_token_is_rejected_by_the_agent_and_by_the_mcp_service(checklist: Checklist) -> None:
    tampered = remember(checklist.token()[:-6] + "AAAAAA")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await checklist.agent.CallTool(
            agent_pb2.CallToolRequest(server_name="atoms", tool_name="whoami"),
            metadata=checklist.metadata(tampered),
            timeout=10,
        )
    assert refusal_of(caught.value).reason == "INVALID_SIGNATURE"
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            checklist.stack.mcp_url,
            headers={"Authorization": f"Bearer {tampered}", "accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_no_token_gets_the_oauth_challenge_naming_authkit(checklist: Checklist) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            checklist.stack.mcp_url,
            headers={"accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
        challenge = response.headers["www-authenticate"]
        metadata_url = challenge.split('resource_metadata="', 1)[1].split('"', 1)[0]
        metadata = (await http.get(metadata_url)).json()
    assert response.status_code == 401
    assert metadata["resource"] == checklist.stack.mcp_url
    assert [server.rstrip("/") for server in metadata["authorization_servers"]] == [checklist.stack.issuer]


async def test_chat_runs_the_tool_through_atoms_mcp_with_the_users_token(checklist: Checklist) -> None:
    token = checklist.token("user_chat")
    request = agent_pb2.ChatRequest(messages=[agent_pb2.ChatMessage(role="user", content="who am I?")])
    events = [e async for e in checklist.agent.Chat(request, metadata=checklist.metadata(token), timeout=30)]
    result = next(event.tool_result.result for event in events if event.HasField("tool_result"))
    assert json_format.MessageToDict(result.structured_content)["subject"] == "user_chat"
    assert events[-1].done.finish_reason == "stop"
    assert all(token not in json.dumps(body) for body in checklist.model.requests)
