"""The OpenAI chat-completions shapes the dev model answers with: a completion, its stream, usage.

A streamed turn is: a chunk with the assistant role, then the text in pieces of a few words
(or the tool call: its id and name, then its arguments, as OpenAI splits them), a chunk with
the finish reason, with `stream_options.include_usage` a last chunk with no choices and the
usage, then `data: [DONE]`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from atoms_devtools.dev_model.completion_request import CompletionRequest
from atoms_devtools.dev_model.model_card import DEV_MODEL_ID
from atoms_devtools.dev_model.turn_planner import PlannedCall, PlannedTurn

WORDS_PER_CHUNK = 4
_CHARS_PER_TOKEN = 4  # the usual rule of thumb: usage is an estimate, there is no tokenizer here
_WORD = re.compile(r"\S+\s*")


@dataclass(frozen=True, slots=True)
class Usage:
    """Estimated token counts of one completion."""

    prompt_tokens: int
    completion_tokens: int

    def as_json(self) -> dict[str, int]:
        """OpenAI's `usage` object."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }


def estimate_usage(request: CompletionRequest, turn: PlannedTurn) -> Usage:
    """Token counts estimated from characters."""
    prompt = sum(len(message.text) for message in request.messages)
    answer = len(turn.text) if turn.call is None else len(turn.call.arguments_json)
    return Usage(math.ceil(prompt / _CHARS_PER_TOKEN), math.ceil(answer / _CHARS_PER_TOKEN))


def completion_body(turn: PlannedTurn, *, completion_id: str, created: int, usage: Usage) -> dict[str, Any]:
    """The whole `chat.completion` object of a non-streaming request."""
    message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
    if turn.call is not None:
        message["tool_calls"] = [_tool_call(turn.call, arguments=turn.call.arguments_json)]
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": DEV_MODEL_ID,
        "choices": [{"index": 0, "message": message, "finish_reason": turn.finish_reason}],
        "usage": usage.as_json(),
    }


def stream_chunks(
    turn: PlannedTurn, *, completion_id: str, created: int, usage: Usage | None
) -> Iterator[dict[str, Any]]:
    """The `chat.completion.chunk` objects of a streamed turn; `usage` None leaves usage out."""

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": DEV_MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    yield chunk({"role": "assistant", "content": ""})
    if turn.call is not None:
        yield chunk({"tool_calls": [{"index": 0, **_tool_call(turn.call, arguments="")}]})
        yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": turn.call.arguments_json}}]})
    words = _WORD.findall(turn.text)
    for start in range(0, len(words), WORDS_PER_CHUNK):
        yield chunk({"content": "".join(words[start : start + WORDS_PER_CHUNK])})
    yield chunk({}, turn.finish_reason)
    if usage is not None:
        yield {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": DEV_MODEL_ID,
            "choices": [],
            "usage": usage.as_json(),
        }


def _tool_call(call: PlannedCall, *, arguments: str) -> dict[str, Any]:
    return {
        "id": call.call_id,
        "type": "function",
        "function": {"name": call.function_name, "arguments": arguments},
    }
