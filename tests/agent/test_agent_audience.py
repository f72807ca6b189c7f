"""The agent states the audience it accepts: a token issued for another resource or OAuth client is refused.

The agent's auth service trusts the emulator as a first-party (WorkOS) issuer. A session token
without `aud` and a token whose `aud` is the agent's own audience are accepted on both faces;
a token whose `aud` names someone else is UNAUTHENTICATED / INVALID_AUDIENCE on every gRPC
call (before any registry or MCP work) and 401 on the HTTP face.
"""

from __future__ import annotations

import grpc
import httpx
import pytest
from google.protobuf import struct_pb2
from pydantic import SecretStr

from atoms.agent.v1 import agent_pb2
from atoms_agent.settings import DEFAULT_AGENT_AUDIENCE, ModelEndpoint, load_agent_settings
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from tests.support.auth_calls import refusal_of
from tests.support.fake_model_server import FakeModel
from tests.support.token_factory import remember

MODEL_KEY = remember("sk-test-audience-model-key-" + "a" * 20)
OTHER_AUDIENCES = [
    pytest.param("https://mcp.atoms.test/api/mcp", id="another resource"),
    pytest.param("client_01OTHERAPP", id="another OAuth client"),
]
ACCEPTED_CLAIMS = [
    pytest.param({}, id="session token without aud"),
    pytest.param({"audience": DEFAULT_AGENT_AUDIENCE}, id="aud is the agent"),
]


@pytest.fixture
async def fake_model():
    model = FakeModel(tool_name="atoms__echo", tool_arguments={"text": "hi"})
    server = EmbeddedHttpServer(model.app())
    await server.start()
    model.base_url = f"{server.base_url}/v1"  # type: ignore[attr-defined]
    yield model
    await server.stop()


@pytest.fixture
async def stack(agent_stack_factory, fake_model):
    endpoint = ModelEndpoint(base_url=fake_model.base_url, model="fake-model", api_key=SecretStr(MODEL_KEY))
    return await agent_stack_factory(model=endpoint)


def _echo(text: str) -> agent_pb2.CallToolRequest:
    arguments = struct_pb2.Struct()
    arguments.update({"text": text})
    return agent_pb2.CallToolRequest(server_name="atoms", tool_name="echo", arguments=arguments)


def _grpc_calls(stack, token: str):
    metadata = stack.metadata(token)
    register = agent_pb2.RegisterMcpServerRequest(
        name="mine", url="https://mcp.example.com/mcp", scope=agent_pb2.MCP_SERVER_SCOPE_USER
    )
    return {
        "ListMcpServers": lambda: stack.stub.ListMcpServers(
            agent_pb2.ListMcpServersRequest(), metadata=metadata, timeout=10
        ),
        "RegisterMcpServer": lambda: stack.stub.RegisterMcpServer(register, metadata=metadata, timeout=10),
        "CallTool": lambda: stack.stub.CallTool(_echo("hi"), metadata=metadata, timeout=10),
    }


async def _chat_over_http(stack, token: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(
            f"http://127.0.0.1:{stack.agent.http_port}/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"messages": [{"role": "user", "content": "say hi"}]},
        )


def test_the_agent_accepts_its_own_audience_by_default_and_from_the_environment() -> None:
    assert load_agent_settings({}).audience == DEFAULT_AGENT_AUDIENCE == "urn:atoms:agent"
    configured = load_agent_settings({"ATOMS_AGENT_AUDIENCE": "https://agent.atoms.tech"})
    assert configured.audience == "https://agent.atoms.tech"


@pytest.mark.parametrize("value", ["", "  ", "urn:atoms:agent other"], ids=["empty", "blank", "two words"])
def test_an_unusable_audience_setting_stops_start_up_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="ATOMS_AGENT_AUDIENCE"):
        load_agent_settings({"ATOMS_AGENT_AUDIENCE": value})


@pytest.mark.parametrize("audience", OTHER_AUDIENCES)
@pytest.mark.parametrize("method", ["ListMcpServers", "RegisterMcpServer", "CallTool"])
async def test_a_token_for_another_audience_is_refused_on_every_grpc_call(
    stack, method: str, audience: str
) -> None:
    token = stack.token("user_elsewhere", audience=audience)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _grpc_calls(stack, token)[method]()

    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_AUDIENCE")
    assert f"Bearer {token}" not in stack.first_party.authorizations


@pytest.mark.parametrize("audience", OTHER_AUDIENCES)
async def test_a_token_for_another_audience_is_401_on_the_http_face(stack, fake_model, audience: str) -> None:
    token = stack.token("user_elsewhere", audience=audience)

    response = await _chat_over_http(stack, token)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_AUDIENCE"
    assert 'error_description="INVALID_AUDIENCE"' in response.headers["www-authenticate"]
    assert fake_model.requests == []


@pytest.mark.parametrize("claims", ACCEPTED_CLAIMS)
async def test_a_session_token_and_a_token_for_the_agent_are_accepted_on_grpc(stack, claims) -> None:
    token = stack.token("user_welcome", **claims)
    calls = _grpc_calls(stack, token)

    listed = await calls["ListMcpServers"]()
    reply = await calls["CallTool"]()

    assert "atoms" in [server.name for server in listed.servers]
    assert reply.content[0].text == "atoms says hi"
    assert f"Bearer {token}" in stack.first_party.authorizations


@pytest.mark.parametrize("claims", ACCEPTED_CLAIMS)
async def test_a_session_token_and_a_token_for_the_agent_are_accepted_on_http(stack, claims) -> None:
    response = await _chat_over_http(stack, stack.token("user_welcome", **claims))

    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"].endswith("atoms says hi")


async def test_an_internal_token_is_still_accepted(stack) -> None:
    listed = await _grpc_calls(stack, stack.internal_token)["ListMcpServers"]()

    assert "atoms" in [server.name for server in listed.servers]
