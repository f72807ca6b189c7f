"""ChatSession: the model-and-tools loop behind `Chat` and `POST /v1/chat/completions`.

Each round streams the model's text; when the model asks for tools, each call goes through
the ToolGateway with the caller's own token (so first-party MCP servers see the user, and
nobody else sees the token), its result is fed back, and the next round starts. One round
runs at most `max_tool_calls_per_turn` calls; the others are answered with an error naming
that bound, so the model can tell the user, and no MCP server is called for them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format

from atoms.agent.v1 import agent_pb2
from atoms_agent import proto_mapping
from atoms_agent.errors import (
    AgentError,
    InvalidRequestError,
    McpUnauthenticatedError,
    ModelNotConfiguredError,
)
from atoms_agent.model_client import ModelClient, ModelToolCall, TurnEnd, TurnText
from atoms_agent.model_tool_names import ModelToolIndex
from atoms_agent.tool_gateway import ToolGateway
from atoms_grpc.principal import Principal

logger = logging.getLogger(__name__)

MAX_MESSAGES = 100
MAX_MESSAGE_BYTES = 32 * 1024
MAX_TOOL_ROUNDS = 5
DEFAULT_MAX_TOOL_CALLS_PER_TURN = 16
_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of the conversation."""

    role: str
    content: str


def chat_messages_from_proto(messages: Sequence[agent_pb2.ChatMessage]) -> list[ChatMessage]:
    """Validated chat messages from the request."""
    return validate_messages([ChatMessage(role=m.role, content=m.content) for m in messages])


def validate_messages(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Check count, roles and sizes.

    Raises:
        InvalidRequestError: naming the bad field.
    """
    if not 0 < len(messages) <= MAX_MESSAGES:
        raise InvalidRequestError("messages", f"must hold 1 to {MAX_MESSAGES} messages")
    for index, message in enumerate(messages):
        if message.role not in _ROLES:
            raise InvalidRequestError(f"messages[{index}].role", "must be system, user or assistant")
        if len(message.content.encode()) > MAX_MESSAGE_BYTES:
            raise InvalidRequestError(
                f"messages[{index}].content", f"must be at most {MAX_MESSAGE_BYTES} bytes"
            )
    return messages


class ChatSession:
    """Runs the chat loop for one request."""

    def __init__(
        self,
        *,
        gateway: ToolGateway,
        model_client: ModelClient | None,
        max_tool_calls_per_turn: int = DEFAULT_MAX_TOOL_CALLS_PER_TURN,
    ) -> None:
        """Args:
        gateway: lists and calls the caller's tools.
        model_client: the model endpoint; None when no model is configured.
        max_tool_calls_per_turn: tool calls run for one model turn; the rest are refused.

        Raises:
            ValueError: `max_tool_calls_per_turn` is below 1.
        """
        if max_tool_calls_per_turn < 1:
            raise ValueError("max_tool_calls_per_turn must be at least 1")
        self._gateway = gateway
        self._model_client = model_client
        self._max_tool_calls = max_tool_calls_per_turn

    def model_name(self, requested: str) -> str:
        """The model a request will use: the one it names, else the configured default."""
        if requested or self._model_client is None:
            return requested
        return self._model_client.default_model

    async def run(
        self, principal: Principal, token: str, *, messages: list[ChatMessage], model: str, timeout_s: float
    ) -> AsyncIterator[agent_pb2.ChatResponse]:
        """Stream text deltas, tool calls, tool results and a final done event.

        Raises:
            ModelNotConfiguredError: no model endpoint is configured.
            ModelUnavailableError: the model endpoint failed.
            McpUnauthenticatedError: a first-party MCP server refused the caller's token.
        """
        if self._model_client is None:
            raise ModelNotConfiguredError(
                "no model is configured: set ATOMS_LLM_BASE_URL and ATOMS_LLM_MODEL "
                "(and ATOMS_LLM_API_KEY if the endpoint needs one)"
            )
        client = self._model_client
        tool_index = ModelToolIndex.of(
            await self._gateway.list_tools(principal, token, server_name="", timeout_s=timeout_s)
        )
        conversation: list[dict[str, Any]] = [{"role": m.role, "content": m.content} for m in messages]
        for _ in range(MAX_TOOL_ROUNDS):
            end: TurnEnd | None = None
            text: list[str] = []
            async for piece in client.stream_turn(
                model=model or client.default_model,
                messages=conversation,
                tools=tool_index.specs(),
                timeout_s=timeout_s,
            ):
                if isinstance(piece, TurnText):
                    text.append(piece.text)
                    yield agent_pb2.ChatResponse(text_delta=agent_pb2.TextDelta(text=piece.text))
                else:
                    end = piece
            if end is None or not end.tool_calls:
                yield _done(end.finish_reason if end else "stop")
                return
            conversation.append(_assistant_tool_message("".join(text), end.tool_calls))
            for position, call in enumerate(end.tool_calls):
                async for event in self._run_tool(
                    principal,
                    token,
                    call,
                    tool_index,
                    conversation,
                    timeout_s,
                    refusal=self._refusal_for(position),
                ):
                    yield event
        yield _done("tool_calls_exhausted")

    def _refusal_for(self, position: int) -> str:
        """Why the call at `position` of a turn is not run, or "" when it is."""
        if position < self._max_tool_calls:
            return ""
        return (
            f"not run: one model turn may request at most {self._max_tool_calls} tool calls "
            "(chat_max_tool_calls_per_turn)"
        )

    async def _run_tool(
        self,
        principal: Principal,
        token: str,
        call: ModelToolCall,
        tool_index: ModelToolIndex,
        conversation: list[dict[str, Any]],
        timeout_s: float,
        *,
        refusal: str,
    ) -> AsyncIterator[agent_pb2.ChatResponse]:
        routed = tool_index.route(call.name)
        server_name, tool_name = (routed.server_name, routed.tool_name) if routed else ("", call.name)
        arguments = _parse_arguments(call.arguments_json)
        yield agent_pb2.ChatResponse(
            tool_call=agent_pb2.ToolCallEvent(
                call_id=call.call_id,
                server_name=server_name,
                tool_name=tool_name,
                arguments=proto_mapping.struct_from(arguments),
            )
        )
        result = (
            _error_result(refusal)
            if refusal
            else await self._call(principal, token, server_name, tool_name, arguments, timeout_s)
        )
        yield agent_pb2.ChatResponse(
            tool_result=agent_pb2.ToolResultEvent(call_id=call.call_id, result=result)
        )
        conversation.append({"role": "tool", "tool_call_id": call.call_id, "content": _result_text(result)})

    async def _call(
        self,
        principal: Principal,
        token: str,
        server_name: str,
        tool_name: str,
        arguments: dict[str, Any],
        timeout_s: float,
    ) -> agent_pb2.CallToolResponse:
        if not server_name:
            return _error_result(f"unknown tool {tool_name!r}")
        try:
            raw = await self._gateway.call_tool(
                principal,
                token,
                server_name=server_name,
                tool_name=tool_name,
                arguments=arguments,
                timeout_s=timeout_s,
            )
        except McpUnauthenticatedError:
            raise
        except AgentError as err:
            # Other tool failures go back to the model, which can tell the user.
            return _error_result(err.message)
        return proto_mapping.tool_result_to_proto(raw)


def _done(finish_reason: str) -> agent_pb2.ChatResponse:
    return agent_pb2.ChatResponse(done=agent_pb2.DoneEvent(finish_reason=finish_reason))


def _assistant_tool_message(text: str, calls: tuple[ModelToolCall, ...]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": text or None,
        "tool_calls": [
            {"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json}}
            for c in calls
        ],
    }


def _parse_arguments(arguments_json: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments_json)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _error_result(message: str) -> agent_pb2.CallToolResponse:
    return agent_pb2.CallToolResponse(
        is_error=True, content=[agent_pb2.ToolContent(type="text", text=message)]
    )


def _result_text(result: agent_pb2.CallToolResponse) -> str:
    texts = [item.text for item in result.content if item.type == "text"]
    if texts:
        return "\n".join(texts)
    return json.dumps(json_format.MessageToDict(result.structured_content))
