"""ModelClient: streaming calls to an OpenAI-compatible `POST {base}/chat/completions` endpoint.

It yields the pieces of one model turn: text deltas as they arrive, then the complete tool
calls (their argument fragments joined) and the finish reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from atoms_agent.errors import ModelUnavailableError
from atoms_agent.settings import ModelEndpoint

logger = logging.getLogger(__name__)

MAX_SSE_LINE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ModelToolCall:
    """A function call the model asked for."""

    call_id: str
    name: str
    arguments_json: str


@dataclass(frozen=True, slots=True)
class TurnText:
    """Text the model produced."""

    text: str


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """The end of the turn: why, and the tool calls to make (if any)."""

    finish_reason: str
    tool_calls: tuple[ModelToolCall, ...] = ()


@dataclass
class _PartialCall:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ModelClient:
    """One OpenAI-compatible endpoint; the caller owns the HTTP client's lifecycle."""

    def __init__(self, *, endpoint: ModelEndpoint, http_client: httpx.AsyncClient) -> None:
        self._endpoint = endpoint
        self._http = http_client

    @property
    def default_model(self) -> str:
        """The configured model name."""
        return self._endpoint.model

    async def stream_turn(
        self, *, model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]], timeout_s: float
    ) -> AsyncIterator[TurnText | TurnEnd]:
        """Stream one model turn.

        Raises:
            ModelUnavailableError: the endpoint failed, could not be reached, or answered nonsense.
        """
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
        if tools:
            body["tools"] = tools
        headers = {"accept": "text/event-stream"}
        if self._endpoint.api_key is not None:
            headers["authorization"] = f"Bearer {self._endpoint.api_key.get_secret_value()}"
        url = f"{self._endpoint.base_url}/chat/completions"
        try:
            async with self._http.stream(
                "POST", url, json=body, headers=headers, timeout=httpx.Timeout(timeout_s)
            ) as response:
                if response.status_code != 200:
                    raise ModelUnavailableError(f"the model endpoint answered HTTP {response.status_code}")
                async for piece in _parse_stream(response):
                    yield piece
        except httpx.HTTPError as err:
            raise ModelUnavailableError(
                f"the model endpoint could not be reached ({type(err).__name__})"
            ) from err


async def _parse_stream(response: httpx.Response) -> AsyncIterator[TurnText | TurnEnd]:
    calls: dict[int, _PartialCall] = {}
    finish_reason = ""
    async for line in response.aiter_lines():
        if len(line) > MAX_SSE_LINE_BYTES:
            raise ModelUnavailableError("the model endpoint sent an oversized event")
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            break
        choice = _first_choice(data)
        if choice is None:
            continue
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = {}
        if isinstance(delta.get("content"), str) and delta["content"]:
            yield TurnText(delta["content"])
        fragments = delta.get("tool_calls")
        for fragment in fragments if isinstance(fragments, list) else []:
            _merge_call_fragment(calls, fragment)
        reason = choice.get("finish_reason")
        finish_reason = reason if isinstance(reason, str) and reason else finish_reason
    tool_calls = tuple(
        ModelToolCall(
            call_id=c.call_id or f"call_{i}", name=c.name, arguments_json="".join(c.arguments) or "{}"
        )
        for i, c in sorted(calls.items())
    )
    yield TurnEnd(
        finish_reason=finish_reason or ("tool_calls" if tool_calls else "stop"), tool_calls=tool_calls
    )


def _first_choice(data: str) -> dict[str, Any] | None:
    try:
        event = json.loads(data)
    except ValueError as err:
        raise ModelUnavailableError("the model endpoint sent an event that is not JSON") from err
    choices = event.get("choices") if isinstance(event, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    return choices[0]


def _merge_call_fragment(calls: dict[int, _PartialCall], fragment: Any) -> None:
    """Add one streamed piece of a tool call.

    Raises:
        ModelUnavailableError: the piece is malformed (an index that is not an integer, a
            function, id or name of the wrong type): a clear refusal, never an internal error.
    """
    if not isinstance(fragment, dict):
        return
    index, function = fragment.get("index", 0), fragment.get("function") or {}
    call_id, name = fragment.get("id") or "", function.get("name") if isinstance(function, dict) else None
    if (
        not isinstance(index, int)
        or isinstance(index, bool)
        or not isinstance(function, dict)
        or not isinstance(call_id, str)
        or not isinstance(name or "", str)
    ):
        raise ModelUnavailableError("the model endpoint sent a malformed tool call")
    partial = calls.setdefault(index, _PartialCall())
    partial.call_id = call_id or partial.call_id
    partial.name = name or partial.name
    if isinstance(function.get("arguments"), str):
        partial.arguments.append(function["arguments"])
