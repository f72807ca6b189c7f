"""A local server speaking the OpenAI chat-completions streaming protocol, scripted for tests.

First turn: it asks for one tool call (or `repeat` copies of it, or the calls `pick_calls`
chooses from the tools the request offers, or it streams `first_turn_deltas` as they are).
Second turn (the conversation holds the tool results): it streams an answer quoting the last
result. It records every request body it receives.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class FakeModel:
    """The script: which tool to call with which arguments."""

    tool_name: str
    tool_arguments: dict[str, Any]
    repeat: int = 1
    first_turn_deltas: list[dict[str, Any]] | None = None
    pick_calls: Callable[[list[dict[str, Any]]], list[tuple[str, dict[str, Any]]]] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self._completions, methods=["POST"])])

    async def _completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.authorizations.append(request.headers.get("authorization"))
        if not body.get("stream"):
            return JSONResponse({"error": {"message": "this fake only streams"}}, status_code=400)
        tool_results = [m for m in body["messages"] if m.get("role") == "tool"]
        if tool_results:
            chunks = self._answer(tool_results[-1]["content"])
        elif self.first_turn_deltas is not None:
            chunks = [_chunk(delta) for delta in self.first_turn_deltas]
        elif self.pick_calls is not None:
            chunks = self._many_calls(self.pick_calls(body.get("tools") or []))
        elif self.repeat > 1:
            chunks = self._many_calls([(self.tool_name, self.tool_arguments)] * self.repeat)
        else:
            chunks = self._tool_call()
        return StreamingResponse(_sse(chunks), media_type="text/event-stream")

    def _many_calls(self, calls: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        fragments = [
            {
                "index": index,
                "id": f"call_{index + 1}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for index, (name, arguments) in enumerate(calls)
        ]
        return [
            _chunk({"role": "assistant", "content": "Let me check. "}),
            _chunk({"tool_calls": fragments}),
            _chunk({}, finish_reason="tool_calls"),
        ]

    def _tool_call(self) -> list[dict[str, Any]]:
        arguments = json.dumps(self.tool_arguments)
        half = len(arguments) // 2
        call = {
            "index": 0,
            "id": "call_1",
            "type": "function",
            "function": {"name": self.tool_name, "arguments": ""},
        }
        return [
            _chunk({"role": "assistant", "content": "Let me check. "}),
            _chunk(
                {
                    "tool_calls": [
                        {**call, "function": {"name": self.tool_name, "arguments": arguments[:half]}}
                    ]
                }
            ),
            _chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments[half:]}}]}),
            _chunk({}, finish_reason="tool_calls"),
        ]

    def _answer(self, tool_output: str) -> list[dict[str, Any]]:
        return [
            _chunk({"content": "The tool said: "}),
            _chunk({"content": tool_output}),
            _chunk({}, finish_reason="stop"),
        ]


def _chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


async def _sse(chunks: list[dict[str, Any]]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield f"data: {json.dumps(chunk)}\n\n".encode()
    yield b"data: [DONE]\n\n"
