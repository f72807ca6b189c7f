"""AgentHttpClient: the agent's HTTP face (`POST /v1/chat/completions`, `GET /health`) with httpx."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, Self

import grpc
import httpx

from atoms_agent_client.chat_types import AgentHealth, ChatCompletion, ChatCompletionChunk, ChatMessage
from atoms_agent_client.errors import (
    AGENT_PROTOCOL_ERROR,
    AGENT_UNREACHABLE,
    AgentError,
    AgentUnavailableError,
    error_from_http_body,
)
from atoms_agent_client.mcp_auth_headers import SessionSource, get_bearer_headers
from atoms_agent_client.server_sent_events import EventTooLargeError, read_event_data

logger = logging.getLogger(__name__)

DEFAULT_AGENT_HTTP_URL = "http://127.0.0.1:3284"
DEFAULT_HTTP_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
"""60 s to connect-read-write each step (between two chunks, when streaming), 5 s to connect."""


class AgentHttpClient:
    """A client of one agent's HTTP face on behalf of one session source."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_AGENT_HTTP_URL,
        session: SessionSource | None = None,
        timeout: httpx.Timeout = DEFAULT_HTTP_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """Args:
        base_url: the agent's HTTP face; a path prefix behind a proxy is kept.
        session: where the user's token comes from, called once per request; without it,
            or when it returns no token, requests carry no `Authorization` (the agent answers 401).
        timeout: httpx timeouts for clients this class creates.
        http_client: an existing client; the caller is then responsible for its lifecycle.

        Raises:
            ValueError: `base_url` is not an http(s) URL.
        """
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("base_url must be an http(s) URL")
        self._base_url = str(url).rstrip("/")
        self._session = session
        self._owns_http = http_client is None
        # Redirects are never followed: a redirect to another host must not carry the token.
        self._http = http_client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        """Close the HTTP client, if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def check_health(self) -> AgentHealth:
        """`GET /health`, without the token (the agent's health check is public).

        Raises:
            AgentError: the agent answered with an error or something unreadable.
            AgentUnavailableError: the agent could not be reached.
        """
        response = await self._send("GET", "/health")
        body = _json_of(response)
        status = body.get("status") if isinstance(body, dict) else None
        if not isinstance(status, str):
            raise _protocol_error("the agent's /health answer has no status")
        return AgentHealth(status=status)

    async def create_chat_completion(
        self, messages: Sequence[ChatMessage], *, model: str = ""
    ) -> ChatCompletion:
        """`POST /v1/chat/completions` without streaming: the whole answer.

        Raises:
            AgentUnauthenticatedError: no token, or the agent refused it (`reason` says why).
            AgentError: any other refusal (`INVALID_REQUEST`, `MODEL_NOT_CONFIGURED`, ...).
            AgentUnavailableError: the agent (or its model) could not be reached.
            InvalidAccessTokenError: the session's token cannot be a bearer token.
        """
        headers = await get_bearer_headers(self._session)
        response = await self._send("POST", "/v1/chat/completions", headers, _chat_body(messages, model))
        return ChatCompletion.from_json(_json_of(response))

    async def stream_chat_completion(
        self, messages: Sequence[ChatMessage], *, model: str = ""
    ) -> AsyncIterator[ChatCompletionChunk]:
        """`POST /v1/chat/completions` with `stream: true`: the answer's chunks as they arrive.

        A refusal raises before the first chunk; a failure the agent reports inside the stream
        raises the same errors then. Close the iterator early (`contextlib.aclosing`) to stop.

        Raises:
            The errors of `create_chat_completion`.
        """
        headers = await get_bearer_headers(self._session)
        body = _chat_body(messages, model, stream=True)
        request = self._http.build_request(
            "POST", f"{self._base_url}/v1/chat/completions", headers=headers, json=body
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as err:
            raise _unreachable(err) from err
        try:
            if response.is_error:
                await response.aread()
                raise error_from_http_body(response.status_code, _json_or_none(response))
            async for chunk in _chunks(response):
                yield chunk
        except httpx.TransportError as err:
            raise _unreachable(err) from err
        finally:
            await response.aclose()

    async def _send(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> httpx.Response:
        try:
            response = await self._http.request(method, f"{self._base_url}{path}", headers=headers, json=body)
        except httpx.TransportError as err:
            raise _unreachable(err) from err
        if response.is_error:
            raise error_from_http_body(response.status_code, _json_or_none(response))
        return response


async def _chunks(response: httpx.Response) -> AsyncIterator[ChatCompletionChunk]:
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        raise _protocol_error("the agent answered a stream request with something else than an event stream")
    try:
        async for data in read_event_data(response.aiter_lines()):
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
            except ValueError as err:
                raise _protocol_error("an event of the agent's stream is not JSON") from err
            if isinstance(event, dict) and "error" in event:
                raise error_from_http_body(None, event)
            yield ChatCompletionChunk.from_json(event)
    except EventTooLargeError as err:
        raise _protocol_error(str(err)) from err
    raise _protocol_error("the agent's stream ended without [DONE]")


def _chat_body(messages: Sequence[ChatMessage], model: str, *, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": [message.to_json() for message in messages], "stream": stream}
    if model:
        body["model"] = model
    return body


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as err:
        raise _protocol_error("the agent's answer is not JSON") from err


def _protocol_error(message: str) -> AgentError:
    return AgentError(message, status_code=grpc.StatusCode.INTERNAL, reason=AGENT_PROTOCOL_ERROR)


def _unreachable(err: httpx.TransportError) -> AgentUnavailableError:
    timed_out = isinstance(err, httpx.TimeoutException)
    return AgentUnavailableError(
        f"no answer from the agent in time ({type(err).__name__})"
        if timed_out
        else f"cannot reach the agent ({type(err).__name__})",
        status_code=grpc.StatusCode.DEADLINE_EXCEEDED if timed_out else grpc.StatusCode.UNAVAILABLE,
        reason=AGENT_UNREACHABLE,
    )
