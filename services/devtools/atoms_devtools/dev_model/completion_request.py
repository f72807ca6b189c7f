"""parse_completion_request: a `POST /v1/chat/completions` body, checked and bounded.

What the agent sends (services/agent/atoms_agent/model_client.py) and what OpenAI SDKs send: `model`,
`messages` (system, developer, user, assistant with `tool_calls`, tool with `tool_call_id`;
content as text, null, or a list of text parts), `tools` (functions), `stream`,
`stream_options.include_usage`, `tool_choice` (`auto` or `none`), `n` (1). Other fields
(temperature, max_tokens, ...) are accepted and ignored. Anything malformed is an
`InvalidRequestError` naming the field; too many messages or tools a `RequestTooLargeError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from atoms_devtools.dev_model.errors import InvalidRequestError, ModelNotFoundError, RequestTooLargeError
from atoms_devtools.dev_model.model_card import DEV_MODEL_ID

MAX_MESSAGES = 512  # the agent sends at most 100 messages plus 5 rounds of 16 tool calls and results
MAX_TOOLS = 1024  # the agent offers up to 200 tools per MCP server
MAX_MODEL_CHARS = 256
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TOOL_CHOICES = frozenset({"auto", "none"})


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """A tool call an earlier assistant message made."""

    call_id: str
    function_name: str
    arguments_json: str


@dataclass(frozen=True, slots=True)
class Message:
    """One message of the conversation, its content reduced to text."""

    role: str
    text: str
    tool_calls: tuple[ToolCallRecord, ...] = ()
    tool_call_id: str = ""


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """A checked chat-completions request."""

    messages: tuple[Message, ...]
    function_names: tuple[str, ...]
    stream: bool = False
    include_usage: bool = False
    tools_allowed: bool = True


def parse_completion_request(body: Any) -> CompletionRequest:
    """Check a decoded JSON body.

    Raises:
        InvalidRequestError: a field is missing or malformed (`param` names it).
        RequestTooLargeError: more than MAX_MESSAGES messages or MAX_TOOLS tools.
        ModelNotFoundError: `model` names another model.
    """
    if not isinstance(body, dict):
        raise InvalidRequestError("the body must be a JSON object")
    _check_model(body.get("model"))
    stream = _optional_bool(body, "stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise InvalidRequestError("must be an object", param="stream_options")
    include_usage = _optional_bool(options, "include_usage", param="stream_options.include_usage")
    choices = body.get("n", 1)
    if choices is not None and (isinstance(choices, bool) or choices != 1):
        raise InvalidRequestError("this development model answers with exactly one choice", param="n")
    return CompletionRequest(
        messages=_messages(body.get("messages")),
        function_names=_function_names(body.get("tools")),
        stream=stream,
        include_usage=stream and include_usage,
        tools_allowed=_tools_allowed(body.get("tool_choice", "auto")),
    )


def _check_model(model: Any) -> None:
    if not isinstance(model, str) or not model:
        raise InvalidRequestError(f"name the model: {DEV_MODEL_ID}", param="model")
    if model != DEV_MODEL_ID:
        shown = model[:MAX_MODEL_CHARS]
        raise ModelNotFoundError(
            f"the model `{shown}` does not exist here: this development server serves only `{DEV_MODEL_ID}`",
            param="model",
        )


def _optional_bool(body: dict[str, Any], key: str, *, param: str | None = None) -> bool:
    value = body.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequestError("must be true or false", param=param or key)
    return value


def _tools_allowed(choice: Any) -> bool:
    if choice not in _TOOL_CHOICES:
        raise InvalidRequestError(
            'this development model supports only "auto" and "none"', param="tool_choice"
        )
    return bool(choice == "auto")


def _messages(raw: Any) -> tuple[Message, ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidRequestError("must be a non-empty list of messages", param="messages")
    if len(raw) > MAX_MESSAGES:
        raise RequestTooLargeError(f"at most {MAX_MESSAGES} messages", param="messages")
    return tuple(_message(item, f"messages[{index}]") for index, item in enumerate(raw))


def _message(item: Any, where: str) -> Message:
    if not isinstance(item, dict):
        raise InvalidRequestError("must be an object with role and content", param=where)
    role = item.get("role")
    if role not in _ROLES:
        raise InvalidRequestError(f"must be one of {', '.join(sorted(_ROLES))}", param=f"{where}.role")
    text = _content_text(item.get("content"), f"{where}.content")
    calls = _tool_calls(item.get("tool_calls"), f"{where}.tool_calls") if role == "assistant" else ()
    if role != "tool":
        return Message(role=str(role), text=text, tool_calls=calls)
    call_id = item.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise InvalidRequestError("a tool message must name its tool_call_id", param=f"{where}.tool_call_id")
    return Message(role="tool", text=text, tool_call_id=call_id)


def _content_text(content: Any, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise InvalidRequestError("must be text, null or a list of text parts", param=where)
    texts = []
    for index, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise InvalidRequestError(
                "only text parts are understood by this development model", param=f"{where}[{index}]"
            )
        texts.append(part["text"])
    return "".join(texts)


def _tool_calls(raw: Any, where: str) -> tuple[ToolCallRecord, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidRequestError("must be a list", param=where)
    calls = []
    for index, call in enumerate(raw):
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(function, dict)
            or not isinstance(call.get("id"), str)
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("arguments", ""), str)
        ):
            raise InvalidRequestError(
                "must be {id, type: function, function: {name, arguments}}", param=f"{where}[{index}]"
            )
        calls.append(ToolCallRecord(call["id"], function["name"], function.get("arguments", "")))
    return tuple(calls)


def _function_names(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidRequestError("must be a list of function tools", param="tools")
    if len(raw) > MAX_TOOLS:
        raise RequestTooLargeError(f"at most {MAX_TOOLS} tools", param="tools")
    names = []
    for index, tool in enumerate(raw):
        function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name):
            raise InvalidRequestError(
                "must be {type: function, function: {name}} with a name of 1 to 64 letters, digits, _ or -",
                param=f"tools[{index}]",
            )
        names.append(name)
    return tuple(names)
