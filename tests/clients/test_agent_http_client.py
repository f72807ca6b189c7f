"""AgentHttpClient against the running agent's HTTP face; stream edge cases on a stubbed transport."""

from __future__ import annotations

import json
import socket

import grpc
import httpx
import pytest

from atoms_agent_client import (
    AGENT_PROTOCOL_ERROR,
    AGENT_UNREACHABLE,
    AgentError,
    AgentHttpClient,
    AgentUnauthenticatedError,
    AgentUnavailableError,
    ChatMessage,
    static_session,
)
from tests.clients.conftest import ClientStack, tampered

WHO_AM_I = [ChatMessage(role="user", content="who am I?")]


def _client(stack: ClientStack, token: str | None) -> AgentHttpClient:
    return AgentHttpClient(base_url=stack.agent_http_url, session=static_session(token))


async def test_health_answers_ok(client_stack) -> None:
    async with _client(client_stack, None) as agent:
        assert (await agent.check_health()).status == "ok"


async def test_a_completion_runs_whoami_through_the_atoms_mcp_as_the_user(client_stack) -> None:
    async with _client(client_stack, client_stack.token("user_http")) as agent:
        completion = await agent.create_chat_completion(WHO_AM_I)
    assert completion.finish_reason == "stop"
    assert '"subject":"user_http"' in completion.content.replace(" ", "")


async def test_a_streamed_completion_arrives_in_chunks_and_ends_with_stop(client_stack) -> None:
    async with _client(client_stack, client_stack.token("user_stream")) as agent:
        chunks = [chunk async for chunk in agent.stream_chat_completion(WHO_AM_I)]
    assert len(chunks) > 2
    assert '"subject":"user_stream"' in "".join(chunk.content for chunk in chunks).replace(" ", "")
    assert chunks[-1].finish_reason == "stop"


@pytest.mark.parametrize(
    ("token_kind", "reason"),
    [
        pytest.param("tampered", "INVALID_SIGNATURE", id="tampered token"),
        pytest.param("expired", "TOKEN_EXPIRED", id="expired token"),
        pytest.param("none", "MISSING_TOKEN", id="no token"),
    ],
)
async def test_a_bad_token_is_refused_with_401_and_the_reason(
    client_stack, token_kind: str, reason: str
) -> None:
    token = {
        "tampered": lambda: tampered(client_stack.token()),
        "expired": client_stack.expired_token,
        "none": lambda: None,
    }[token_kind]()
    async with _client(client_stack, token) as agent:
        with pytest.raises(AgentUnauthenticatedError) as caught:
            await agent.create_chat_completion(WHO_AM_I)
    assert (caught.value.http_status, caught.value.reason) == (401, reason)
    assert caught.value.status_code is grpc.StatusCode.UNAUTHENTICATED


async def test_a_refused_stream_raises_before_any_chunk(client_stack) -> None:
    async with _client(client_stack, tampered(client_stack.token())) as agent:
        with pytest.raises(AgentUnauthenticatedError) as caught:
            _ = [chunk async for chunk in agent.stream_chat_completion(WHO_AM_I)]
    assert caught.value.reason == "INVALID_SIGNATURE"


async def test_an_invalid_request_keeps_the_agents_status_and_reason(client_stack) -> None:
    async with _client(client_stack, client_stack.token()) as agent:
        with pytest.raises(AgentError) as caught:
            await agent.create_chat_completion([ChatMessage(role="tool", content="x")])
    error = caught.value
    assert (error.http_status, error.status_code, error.reason) == (
        400,
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_REQUEST",
    )


async def test_an_agent_that_is_not_running_is_unavailable_and_unreachable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    async with AgentHttpClient(base_url=f"http://127.0.0.1:{port}") as agent:
        with pytest.raises(AgentUnavailableError) as caught:
            await agent.check_health()
    assert caught.value.reason == AGENT_UNREACHABLE


def _stubbed(handler) -> AgentHttpClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AgentHttpClient(
        base_url="http://agent.test/prefix", session=static_session("t0k3n"), http_client=http
    )


def _events(*payloads: object) -> bytes:
    return b"".join(f"data: {p if isinstance(p, str) else json.dumps(p)}\r\n\r\n".encode() for p in payloads)


def _chunk(content: str) -> dict[str, object]:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
    }


async def test_an_error_inside_the_stream_raises_with_the_status_the_agent_maps_it_to() -> None:
    failure = {"error": {"message": "model down", "type": "unavailable", "code": "MODEL_UNAVAILABLE"}}

    def handler(request: httpx.Request) -> httpx.Response:
        body = _events(_chunk("partial"), failure, "[DONE]")
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    seen: list[str] = []

    async def read_all(agent: AgentHttpClient) -> None:
        async for chunk in agent.stream_chat_completion(WHO_AM_I):
            seen.append(chunk.content)

    async with _stubbed(handler) as agent:
        with pytest.raises(AgentUnavailableError) as caught:
            await read_all(agent)
    assert seen == ["partial"]
    assert (caught.value.http_status, caught.value.reason) == (503, "MODEL_UNAVAILABLE")


async def test_a_stream_cut_before_done_is_a_protocol_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=_events(_chunk("a"))
        )

    async with _stubbed(handler) as agent:
        with pytest.raises(AgentError) as caught:
            _ = [chunk async for chunk in agent.stream_chat_completion(WHO_AM_I)]
    assert caught.value.reason == AGENT_PROTOCOL_ERROR


async def test_a_proxy_error_page_becomes_an_unavailable_error_named_by_its_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, content=b"<html>bad gateway</html>")

    async with _stubbed(handler) as agent:
        with pytest.raises(AgentUnavailableError) as caught:
            await agent.create_chat_completion(WHO_AM_I)
    assert (caught.value.http_status, caught.value.reason) == (502, "HTTP_502")


async def test_requests_keep_the_path_prefix_and_send_the_token_only_to_chat() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("authorization")))
        if request.url.path.endswith("/health"):
            return httpx.Response(200, json={"status": "ok"})
        completion = {
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
            ],
        }
        return httpx.Response(200, json=completion)

    async with _stubbed(handler) as agent:
        await agent.check_health()
        await agent.create_chat_completion(WHO_AM_I)
    assert seen == [("/prefix/health", None), ("/prefix/v1/chat/completions", "Bearer t0k3n")]
