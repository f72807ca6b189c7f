"""Chat and the HTTP face: the model asks for a tool, which runs through Atoms MCP with the user's token."""

from __future__ import annotations

import json

import grpc
import httpx
import pytest
from pydantic import SecretStr

from atoms.agent.v1 import agent_pb2
from atoms_agent.settings import ModelEndpoint
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from tests.support.auth_calls import refusal_of
from tests.support.fake_model_server import FakeModel
from tests.support.token_factory import remember

MODEL_KEY = remember("sk-test-model-key-" + "k" * 24)


@pytest.fixture
async def fake_model():
    model = FakeModel(tool_name="atoms__echo", tool_arguments={"text": "hello from the model"})
    server = EmbeddedHttpServer(model.app())
    await server.start()
    model.base_url = f"{server.base_url}/v1"  # type: ignore[attr-defined]
    yield model
    await server.stop()


@pytest.fixture
async def chat_stack(agent_stack_factory, fake_model):
    endpoint = ModelEndpoint(base_url=fake_model.base_url, model="fake-model", api_key=SecretStr(MODEL_KEY))
    return await agent_stack_factory(model=endpoint)


async def test_chat_streams_text_tool_call_tool_result_and_done(chat_stack, fake_model) -> None:
    token = chat_stack.token()
    request = agent_pb2.ChatRequest(messages=[agent_pb2.ChatMessage(role="user", content="say hello")])
    events = [
        event
        async for event in chat_stack.stub.Chat(request, metadata=chat_stack.metadata(token), timeout=20)
    ]
    kinds = [event.WhichOneof("event") for event in events]
    assert kinds[0] == "text_delta"
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("done")
    call = next(event.tool_call for event in events if event.HasField("tool_call"))
    assert (call.server_name, call.tool_name) == ("atoms", "echo")
    result = next(event.tool_result for event in events if event.HasField("tool_result"))
    assert result.result.content[0].text == "atoms says hello from the model"
    text = "".join(event.text_delta.text for event in events if event.HasField("text_delta"))
    assert text.endswith("The tool said: atoms says hello from the model")
    assert events[-1].done.finish_reason == "stop"
    assert f"Bearer {token}" in chat_stack.first_party.authorizations
    assert set(fake_model.authorizations) == {f"Bearer {MODEL_KEY}"}
    assert all(token not in json.dumps(body) for body in fake_model.requests)


async def test_chat_without_a_model_is_failed_precondition(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    request = agent_pb2.ChatRequest(messages=[agent_pb2.ChatMessage(role="user", content="hi")])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        _ = [
            event
            async for event in stack.stub.Chat(request, metadata=stack.metadata(stack.token()), timeout=10)
        ]
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MODEL_NOT_CONFIGURED")
    assert "ATOMS_LLM_BASE_URL" in refused.message


async def test_chat_rejects_an_unknown_role(chat_stack) -> None:
    request = agent_pb2.ChatRequest(messages=[agent_pb2.ChatMessage(role="tool", content="x")])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        _ = [
            e
            async for e in chat_stack.stub.Chat(
                request, metadata=chat_stack.metadata(chat_stack.token()), timeout=10
            )
        ]
    assert refusal_of(caught.value).metadata == {"field": "messages[0].role"}


def _http(stack) -> str:
    return f"http://127.0.0.1:{stack.agent.http_port}"


async def test_http_health_answers(chat_stack) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{_http(chat_stack)}/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_http_chat_completion_runs_the_tool_with_the_users_token(chat_stack) -> None:
    token = chat_stack.token()
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{_http(chat_stack)}/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"model": "fake-model", "messages": [{"role": "user", "content": "say hello"}]},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"].endswith("The tool said: atoms says hello from the model")
    assert body["choices"][0]["finish_reason"] == "stop"
    assert f"Bearer {token}" in chat_stack.first_party.authorizations


async def test_http_streaming_chat_completion_sends_openai_chunks(chat_stack) -> None:
    token = chat_stack.token()
    chunks = []
    async with (
        httpx.AsyncClient(timeout=20) as client,
        client.stream(
            "POST",
            f"{_http(chat_stack)}/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"messages": [{"role": "user", "content": "say hello"}], "stream": True},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                chunks.append(line[len("data: ") :])
    assert chunks[-1] == "[DONE]"
    parsed = [json.loads(chunk) for chunk in chunks[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in parsed)
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in parsed)
    assert text.endswith("The tool said: atoms says hello from the model")
    assert parsed[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        pytest.param(None, "Bearer", id="no token"),
        pytest.param("Bearer not-a-token", 'Bearer error="invalid_token"', id="invalid token"),
    ],
)
async def test_http_chat_without_a_valid_token_is_401_with_a_challenge(
    chat_stack, authorization: str | None, challenge: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{_http(chat_stack)}/v1/chat/completions",
            headers=headers,
            json={"messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith(challenge)
    assert response.json()["error"]["code"] in ("MISSING_TOKEN", "MALFORMED_TOKEN")


async def test_http_chat_with_a_malformed_body_is_400(chat_stack) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{_http(chat_stack)}/v1/chat/completions",
            headers={"Authorization": f"Bearer {chat_stack.token()}"},
            content=b"{not json",
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize(("opening", "closing"), [(b"[", b"]"), (b'{"a":', b"}")])
async def test_http_chat_with_deeply_nested_json_is_400_not_500(chat_stack, opening, closing) -> None:
    depth = 40_000  # well within the body limit
    body = b'{"messages": ' + opening * depth + b"1" + closing * depth + b"}"
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{_http(chat_stack)}/v1/chat/completions",
            headers={"Authorization": f"Bearer {chat_stack.token()}"},
            content=body,
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


async def test_http_chat_refuses_a_stream_flag_that_is_not_a_boolean(chat_stack) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{_http(chat_stack)}/v1/chat/completions",
            headers={"Authorization": f"Bearer {chat_stack.token()}"},
            json={"messages": [{"role": "user", "content": "hi"}], "stream": "false"},
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


async def test_http_chat_names_the_configured_model_when_the_request_names_none(chat_stack) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{_http(chat_stack)}/v1/chat/completions",
            headers={"Authorization": f"Bearer {chat_stack.token()}"},
            json={"messages": [{"role": "user", "content": "say hello"}]},
        )
    assert response.json()["model"] == "fake-model"
