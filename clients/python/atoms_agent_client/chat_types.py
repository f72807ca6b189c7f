"""The values both faces of the agent client exchange: chat messages, completions, chunks, tool results.

Raw JSON and protobuf answers are converted here, at the edge, into frozen values; an answer
that is not what the agent's API promises raises AgentError `AGENT_PROTOCOL_ERROR`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import json_format

from atoms.agent.v1 import agent_pb2
from atoms_agent_client.errors import AGENT_PROTOCOL_ERROR, AgentError

JsonValue = Any
"""A value as `json.loads` returns it."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation: role `system`, `user` or `assistant`, and its text."""

    role: str
    content: str

    def to_json(self) -> dict[str, str]:
        """The OpenAI-style `{"role", "content"}` object."""
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class AgentHealth:
    """What the agent's `GET /health` answered."""

    status: str


@dataclass(frozen=True, slots=True)
class ChatCompletion:
    """A complete answer of `POST /v1/chat/completions`."""

    id: str
    model: str
    created: int
    content: str
    finish_reason: str

    @classmethod
    def from_json(cls, body: JsonValue) -> ChatCompletion:
        """Read a `chat.completion` object.

        Raises:
            AgentError: AGENT_PROTOCOL_ERROR, the body is not a chat.completion.
        """
        choice = _first_choice(body, "chat.completion")
        message = choice.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        return cls(
            id=str(body.get("id", "")),
            model=str(body.get("model", "")),
            created=created if isinstance(created := body.get("created"), int) else 0,
            content=content if isinstance(content, str) else "",
            finish_reason=str(choice.get("finish_reason") or ""),
        )


@dataclass(frozen=True, slots=True)
class ChatCompletionChunk:
    """One streamed piece of an answer: the text it adds, and the finish reason on the last piece."""

    content: str
    finish_reason: str | None

    @classmethod
    def from_json(cls, body: JsonValue) -> ChatCompletionChunk:
        """Read a `chat.completion.chunk` object.

        Raises:
            AgentError: AGENT_PROTOCOL_ERROR, the body is not a chat.completion.chunk.
        """
        choice = _first_choice(body, "chat.completion.chunk")
        delta = choice.get("delta")
        content = delta.get("content") if isinstance(delta, dict) else None
        finish_reason = choice.get("finish_reason")
        return cls(
            content=content if isinstance(content, str) else "",
            finish_reason=finish_reason if isinstance(finish_reason, str) else None,
        )


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The result of a tool call through the agent.

    Attributes:
        is_error: the tool reported an error (the call itself succeeded).
        content: the MCP content items as JSON (`{"type": "text", "text": ...}`, ...).
        structured_content: the tool's structured result, when it returned one.
    """

    is_error: bool
    content: tuple[Mapping[str, JsonValue], ...]
    structured_content: Mapping[str, JsonValue] | None

    @classmethod
    def from_proto(cls, response: agent_pb2.CallToolResponse) -> ToolResult:
        """Read a CallToolResponse; Struct numbers that are whole come back as ints."""
        content = tuple(
            {"type": item.type, "text": item.text}
            if item.type == "text"
            else _whole_numbers(json_format.MessageToDict(item.raw))
            for item in response.content
        )
        structured = (
            _whole_numbers(json_format.MessageToDict(response.structured_content))
            if response.HasField("structured_content")
            else None
        )
        return cls(is_error=response.is_error, content=content, structured_content=structured)

    @property
    def text(self) -> str:
        """The text items joined by newlines."""
        return "\n".join(str(item.get("text", "")) for item in self.content if item.get("type") == "text")


def _first_choice(body: JsonValue, kind: str) -> dict[str, JsonValue]:
    choices = body.get("choices") if isinstance(body, dict) and body.get("object") == kind else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise AgentError(
            f"the agent's answer is not a {kind}",
            status_code=grpc.StatusCode.INTERNAL,
            reason=AGENT_PROTOCOL_ERROR,
        )
    return choices[0]


def _whole_numbers(value: JsonValue) -> JsonValue:
    # protobuf Struct keeps every number as a double: give back 3, not 3.0, where nothing is lost.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value
