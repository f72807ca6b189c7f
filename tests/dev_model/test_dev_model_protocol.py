"""The dev model over HTTP, as OpenAI-compatible clients see it: the agent's own ModelClient, and httpx.

The ModelClient is the agent's real client of `POST {base}/chat/completions` (streaming SSE,
tool-call fragments joined); what it parses here is what the agent gets in production shape.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from atoms_agent.errors import ModelUnavailableError
from atoms_agent.model_client import ModelClient, TurnEnd, TurnText
from atoms_agent.settings import ModelEndpoint
from atoms_devtools.dev_model import (
    DEV_MODEL_ID,
    MAX_BODY_BYTES,
    MAX_MESSAGES,
    MAX_TOOLS,
    STAND_IN_NOTE,
    running_dev_model,
)
from tests.conftest import log_lines
from tests.support.token_factory import remember

MODEL_KEY = remember("sk-dev-model-key-" + "k" * 24)
WHOAMI_TOOL = {
    "type": "function",
    "function": {
        "name": "atoms__whoami",
        "description": "Return who you are.",
        "parameters": {"type": "object"},
    },
}


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    async with running_dev_model() as url:
        yield url


async def _turn(
    base_url: str,
    messages: list[dict[str, Any]],
    *,
    model: str = DEV_MODEL_ID,
    tools: list[dict[str, Any]] | None = None,
) -> list[Any]:
    endpoint = ModelEndpoint(base_url=base_url, model=model, api_key=SecretStr(MODEL_KEY))
    async with httpx.AsyncClient() as http:
        client = ModelClient(endpoint=endpoint, http_client=http)
        return [
            piece
            async for piece in client.stream_turn(
                model=model, messages=messages, tools=tools or [WHOAMI_TOOL], timeout_s=10
            )
        ]


async def _post(base_url: str, body: Any, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        if "content" in kwargs:
            return await http.post(f"{base_url}/chat/completions", **kwargs)
        return await http.post(f"{base_url}/chat/completions", json=body, **kwargs)


def _body(messages: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    asked = [{"role": "user", "content": "who am I"}] if messages is None else messages
    return {"model": DEV_MODEL_ID, "messages": asked, **extra}


async def test_the_agents_model_client_gets_a_streamed_whoami_tool_call(base_url: str) -> None:
    pieces = await _turn(base_url, [{"role": "user", "content": "Who am I?"}])
    end = pieces[-1]
    assert isinstance(end, TurnEnd)
    assert end.finish_reason == "tool_calls"
    assert [(call.call_id, call.name, json.loads(call.arguments_json)) for call in end.tool_calls] == [
        ("call_1", "atoms__whoami", {})
    ]
    assert not [piece for piece in pieces if isinstance(piece, TurnText)]


async def test_the_agents_model_client_gets_the_answer_streamed_in_pieces_after_the_tool_result(
    base_url: str,
) -> None:
    whoami = {"kind": "user", "subject": "user_ada", "org_id": "org_acme", "role": "admin", "may_write": []}
    messages = [
        {"role": "user", "content": "Who am I?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "atoms__whoami", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": json.dumps(whoami)},
    ]
    pieces = await _turn(base_url, messages)
    texts = [piece.text for piece in pieces if isinstance(piece, TurnText)]
    assert len(texts) > 1
    answer = "".join(texts)
    assert "user_ada" in answer
    assert "org_acme" in answer
    assert answer.endswith(STAND_IN_NOTE)
    assert pieces[-1] == TurnEnd(finish_reason="stop")


async def test_another_model_name_is_refused_and_the_agent_reports_the_model_unavailable(
    base_url: str,
) -> None:
    with pytest.raises(ModelUnavailableError, match="HTTP 404"):
        await _turn(base_url, [{"role": "user", "content": "hi"}], model="gpt-4o")


async def test_a_whole_completion_has_the_openai_shape_with_the_tool_call(base_url: str) -> None:
    response = await _post(base_url, _body(tools=[WHOAMI_TOOL]))
    assert response.status_code == 200
    body = response.json()
    assert (body["object"], body["model"]) == ("chat.completion", DEV_MODEL_ID)
    assert body["id"].startswith("chatcmpl-")
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "atoms__whoami", "arguments": "{}"}}
    ]
    assert (
        body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )


async def test_a_stream_with_include_usage_ends_with_a_usage_chunk_then_done(base_url: str) -> None:
    body = _body([{"role": "user", "content": "hello"}], stream=True, stream_options={"include_usage": True})
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream("POST", f"{base_url}/chat/completions", json=body) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line[len("data: ") :] async for line in response.aiter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert (chunks[-1]["choices"], sorted(chunks[-1]["usage"])) == (
        [],
        ["completion_tokens", "prompt_tokens", "total_tokens"],
    )
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks[:-1])
    assert DEV_MODEL_ID in text


async def test_text_parts_are_read_like_text(base_url: str) -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "who "}, {"type": "text", "text": "am I"}]}
    ]
    response = await _post(base_url, _body(messages, tools=[WHOAMI_TOOL]))
    assert response.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "atoms__whoami"


async def test_the_models_list_names_the_dev_model(base_url: str) -> None:
    async with httpx.AsyncClient() as http:
        listed = (await http.get(f"{base_url}/models")).json()
        one = await http.get(f"{base_url}/models/{DEV_MODEL_ID}")
        other = await http.get(f"{base_url}/models/gpt-4o")
    assert listed["object"] == "list"
    assert [model["id"] for model in listed["data"]] == [DEV_MODEL_ID]
    assert (one.status_code, one.json()["id"]) == (200, DEV_MODEL_ID)
    assert (other.status_code, other.json()["error"]["code"]) == (404, "model_not_found")


async def test_neither_the_authorization_header_nor_a_message_is_logged(base_url: str) -> None:
    before = len(log_lines())
    marker = "marker-7f3a-do-not-log"
    create = {"type": "function", "function": {"name": "atoms__create_project", "parameters": {}}}
    pieces = await _turn(
        base_url, [{"role": "user", "content": f"create a project called {marker}"}], tools=[create]
    )
    assert json.loads(pieces[-1].tool_calls[0].arguments_json) == {"name": marker}
    lines = log_lines()[before:]
    assert any("chat completion: call create_project" in line for line in lines), lines
    assert not [line for line in lines if marker in line or MODEL_KEY in line]


def _too_many(name: str, count: int) -> dict[str, Any]:
    if name == "messages":
        return _body([{"role": "user", "content": "hi"}] * count)
    return _body(tools=[WHOAMI_TOOL] * count)


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        pytest.param([1, 2], 400, None, "invalid_request", id="a body that is not an object"),
        pytest.param({"messages": []}, 400, "model", "invalid_request", id="no model"),
        pytest.param(_body(model="gpt-4o"), 404, "model", "model_not_found", id="another model"),
        pytest.param(_body([]), 400, "messages", "invalid_request", id="no messages"),
        pytest.param(
            _body([{"role": "wizard", "content": "hi"}]),
            400,
            "messages[0].role",
            "invalid_request",
            id="a bad role",
        ),
        pytest.param(
            _body([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
            400,
            "messages[0].content[0]",
            "invalid_request",
            id="an image part",
        ),
        pytest.param(
            _body([{"role": "tool", "content": "x"}]),
            400,
            "messages[0].tool_call_id",
            "invalid_request",
            id="a tool result without its call id",
        ),
        pytest.param(
            _body([{"role": "assistant", "content": None, "tool_calls": [{"id": 7}]}]),
            400,
            "messages[0].tool_calls[0]",
            "invalid_request",
            id="a malformed earlier tool call",
        ),
        pytest.param(
            _body(tools=[{"type": "function", "function": {"name": "has space"}}]),
            400,
            "tools[0]",
            "invalid_request",
            id="a tool name OpenAI would refuse",
        ),
        pytest.param(
            _body(tools=["whoami"]), 400, "tools[0]", "invalid_request", id="a tool that is not an object"
        ),
        pytest.param(_body(stream="yes"), 400, "stream", "invalid_request", id="stream not a boolean"),
        pytest.param(
            _body(tool_choice="required"), 400, "tool_choice", "invalid_request", id="tool_choice required"
        ),
        pytest.param(_body(n=2), 400, "n", "invalid_request", id="two choices"),
        pytest.param(
            _too_many("messages", MAX_MESSAGES + 1),
            413,
            "messages",
            "request_too_large",
            id="too many messages",
        ),
        pytest.param(
            _too_many("tools", MAX_TOOLS + 1), 413, "tools", "request_too_large", id="too many tools"
        ),
    ],
)
async def test_a_bad_request_is_refused_in_openais_error_shape(
    base_url: str, body: Any, status: int, param: str | None, code: str
) -> None:
    response = await _post(base_url, body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert error["message"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"{not json", "the body is not JSON", id="not JSON"),
        pytest.param(
            b"[" * 100_000 + b"]" * 100_000, "the body is nested too deeply", id="nested too deeply"
        ),
    ],
)
async def test_a_body_that_cannot_be_decoded_is_400_with_the_reason(
    base_url: str, content: bytes, message: str
) -> None:
    response = await _post(base_url, None, content=content)
    assert (response.status_code, response.json()["error"]["message"]) == (400, message)


@pytest.mark.parametrize("declared", [True, False], ids=["with Content-Length", "chunked"])
async def test_a_body_over_the_bound_is_413(base_url: str, declared: bool) -> None:
    oversized = b"x" * (MAX_BODY_BYTES + 1)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(oversized), 1024 * 1024):
            yield oversized[start : start + 1024 * 1024]

    response = await _post(base_url, None, content=oversized if declared else chunks())
    assert (response.status_code, response.json()["error"]["code"]) == (413, "request_too_large")


async def test_unknown_routes_and_methods_answer_in_openais_error_shape(base_url: str) -> None:
    async with httpx.AsyncClient() as http:
        missing = await http.get(f"{base_url}/embeddings")
        wrong_method = await http.get(f"{base_url}/chat/completions")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (405, "method_not_allowed")
    assert wrong_method.headers["allow"] == "POST"
