"""StatelessMcpCaller: calls to a first-party stateless MCP server as independent requests, no session.

A server the first-party list marks `stateless` (the Atoms MCP runs in stateless HTTP mode:
any replica answers any request) keeps nothing per MCP session, so a caller needs none: each
`tools/call` or `tools/list` is one JSON-RPC POST over one connection pool shared by every
caller of that server, carrying that caller's own headers (its `Authorization`). Nothing is
kept per caller, so a new user costs what a repeat call costs and a refreshed token costs
nothing. Connections carry no credentials: every request brings its own.

The protocol version is learnt once per server with `server/discover` (MCP 2026: every request
then carries the per-request `_meta` envelope); a server that does not know `server/discover`
is spoken to at the newest handshake-era version, which a stateless server accepts without an
`initialize`. Requests and results are the MCP SDK's own types. Answers are bounded in bytes
like every other MCP answer (`BoundedResponseTransport`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2
import mcp_types as types
from mcp.shared.inbound import (
    MCP_METHOD_HEADER,
    MCP_NAME_HEADER,
    MCP_PROTOCOL_VERSION_HEADER,
    NAME_BEARING_METHODS,
    encode_header_value,
)
from mcp_types.version import LATEST_HANDSHAKE_VERSION, LATEST_MODERN_VERSION, MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

from atoms_agent.bounded_response_transport import (
    AnswerRefusedError,
    AnswerTooLargeError,
    BoundedResponseTransport,
)
from atoms_agent.errors import (
    AgentError,
    McpForbiddenError,
    McpLimitExceededError,
    McpProtocolError,
    McpUnauthenticatedError,
    McpUnavailableError,
)

logger = logging.getLogger(__name__)

CLIENT_INFO = types.Implementation(name="atoms-agent", version="1")
_CONNECT_TIMEOUT_S = 5.0
_MAX_ERROR_MESSAGE = 200
_ACCEPT = "application/json, text/event-stream"

_ResultT = TypeVar("_ResultT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class _Protocol:
    """How requests to the server are stamped: a modern version (with `_meta`) or a handshake-era one."""

    version: str
    modern: bool


class StatelessMcpCaller:
    """Tool calls and listings to one stateless first-party MCP server, over one shared connection pool."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        transport: httpx2.AsyncBaseTransport,
        request_timeout_s: float,
        max_response_bytes: int,
    ) -> None:
        """Args:
        name: the server's name, for errors and logs.
        url: the MCP endpoint.
        transport: the connection pool every caller of this server shares; closed with the caller.
        request_timeout_s: the HTTP read timeout of every request.
        max_response_bytes: the most decoded bytes one answer may have.
        """
        self.name = name
        self._url = url
        self._http = httpx2.AsyncClient(
            transport=BoundedResponseTransport(transport, max_bytes=max_response_bytes),
            timeout=httpx2.Timeout(request_timeout_s, connect=_CONNECT_TIMEOUT_S),
            follow_redirects=False,
            trust_env=False,
        )
        self._protocol: _Protocol | None = None
        self._discovering = asyncio.Lock()
        self._ids = itertools.count(1)

    async def call_tool(
        self, tool: str, arguments: dict[str, Any], *, headers: Mapping[str, str], timeout_s: float
    ) -> types.CallToolResult:
        """Call one tool with the caller's `headers`; return the MCP result.

        Raises:
            AgentError: the server could not be reached, refused the caller, or answered too much
                or something that is not MCP.
        """
        request = types.CallToolRequest(params=types.CallToolRequestParams(name=tool, arguments=arguments))
        result = await self._send(request, types.CallToolResult, headers=headers, timeout_s=timeout_s)
        if result.result_type not in (None, "complete"):
            raise McpProtocolError(f"MCP server {self.name} asked for input the agent cannot give")
        return result

    async def list_tools(
        self, *, cursor: str | None, headers: Mapping[str, str], timeout_s: float
    ) -> types.ListToolsResult:
        """One page of the server's tools, fetched with the caller's `headers`.

        Raises:
            AgentError: as for `call_tool`.
        """
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        request = types.ListToolsRequest(params=params)
        return await self._send(request, types.ListToolsResult, headers=headers, timeout_s=timeout_s)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _send(
        self,
        request: BaseModel,
        result_type: type[_ResultT],
        *,
        headers: Mapping[str, str],
        timeout_s: float,
    ) -> _ResultT:
        data = request.model_dump(by_alias=True, mode="json", exclude_none=True)
        try:
            async with asyncio.timeout(timeout_s):
                for attempt in range(2):
                    protocol = await self._negotiated(headers)
                    try:
                        raw = await self._exchange(data, protocol, headers)
                    except _VersionRefusedError:
                        self._protocol = None  # the server changed: learn its version again, once
                        if attempt == 1:
                            raise McpProtocolError(
                                f"MCP server {self.name} refused every protocol version offered"
                            ) from None
                        continue
                    return _parse(result_type, raw, self.name)
        except TimeoutError as err:
            raise McpUnavailableError(f"MCP server {self.name} did not answer within the deadline") from err
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _negotiated(self, headers: Mapping[str, str]) -> _Protocol:
        if self._protocol is not None:
            return self._protocol
        async with self._discovering:
            if self._protocol is None:
                self._protocol = await self._discover(headers)
                logger.info(
                    "MCP server %s speaks %s (stateless calls, no session)", self.name, self._protocol.version
                )
            return self._protocol

    async def _discover(self, headers: Mapping[str, str]) -> _Protocol:
        probe = _Protocol(version=LATEST_MODERN_VERSION, modern=True)
        data = types.DiscoverRequest(params=types.RequestParams()).model_dump(
            by_alias=True, mode="json", exclude_none=True
        )
        try:
            raw = await self._exchange(data, probe, headers)
            result = types.DiscoverResult.model_validate(raw)
        except (_JsonRpcError, _VersionRefusedError, ValidationError):
            # Not positive evidence of a modern server (as the SDK's own `mode="auto"` decides).
            return _Protocol(version=LATEST_HANDSHAKE_VERSION, modern=False)
        mutual = [version for version in MODERN_PROTOCOL_VERSIONS if version in result.supported_versions]
        if not mutual:
            return _Protocol(version=LATEST_HANDSHAKE_VERSION, modern=False)
        return _Protocol(version=mutual[-1], modern=True)

    async def _exchange(
        self, data: dict[str, Any], protocol: _Protocol, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """POST one JSON-RPC request; return its result, or raise what the answer means."""
        request_id = next(self._ids)
        method = data["method"]
        params = dict(data.get("params") or {})
        sent = {**headers, "accept": _ACCEPT, "content-type": "application/json"}
        sent[MCP_PROTOCOL_VERSION_HEADER] = protocol.version
        if protocol.modern:
            params["_meta"] = {
                **params.get("_meta", {}),
                types.PROTOCOL_VERSION_META_KEY: protocol.version,
                types.CLIENT_INFO_META_KEY: CLIENT_INFO.model_dump(mode="json", exclude_none=True),
                types.CLIENT_CAPABILITIES_META_KEY: {},
            }
            sent[MCP_METHOD_HEADER] = method
            name_key = NAME_BEARING_METHODS.get(method)
            if name_key is not None and isinstance(name := params.get(name_key), str):
                sent[MCP_NAME_HEADER] = encode_header_value(name)
        body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        try:
            response = await self._http.post(self._url, content=body.encode(), headers=sent)
        except AnswerRefusedError as err:
            raise self._refused(err) from err
        except (httpx2.TransportError, OSError) as err:
            logger.info("MCP server %s could not be reached: %s", self.name, type(err).__name__)
            raise McpUnavailableError(f"MCP server {self.name} could not be reached") from err
        except httpx2.HTTPError as err:
            raise McpProtocolError(
                f"MCP server {self.name} answered with something that is not HTTP"
            ) from err
        _check_status(response.status_code, self.name)
        return self._result_of(response, request_id)

    def _result_of(self, response: httpx2.Response, request_id: int) -> dict[str, Any]:
        content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        try:
            text = response.text
            if content_type == "text/event-stream":
                text = _sse_message(text, request_id)
            message = types.jsonrpc_message_adapter.validate_json(text, by_name=False)
        except (ValidationError, ValueError) as err:
            raise McpProtocolError(f"MCP server {self.name} answered with something that is not MCP") from err
        if isinstance(message, types.JSONRPCError):
            if message.error.code == types.UNSUPPORTED_PROTOCOL_VERSION:
                raise _VersionRefusedError
            raise _JsonRpcError(
                f"MCP server {self.name}: {message.error.message[:_MAX_ERROR_MESSAGE]}",
                code=message.error.code,
            )
        if not isinstance(message, types.JSONRPCResponse) or message.id != request_id:
            raise McpProtocolError(f"MCP server {self.name} answered another request")
        return message.result

    def _refused(self, refusal: AnswerRefusedError) -> AgentError:
        logger.warning("MCP server %s: answer refused: %s", self.name, refusal)
        if isinstance(refusal, AnswerTooLargeError):
            return McpLimitExceededError(
                f"MCP server {self.name} sent an answer larger than {refusal.max_bytes} bytes "
                "(mcp_max_response_bytes)",
                limit="mcp_max_response_bytes",
            )
        return McpProtocolError(f"MCP server {self.name}: {refusal}")


class _JsonRpcError(McpProtocolError):
    """The server answered the request with a JSON-RPC error (a protocol error for the caller)."""

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


class _VersionRefusedError(Exception):
    """The server refused the protocol version the request was stamped with (-32022)."""


def _check_status(status: int, name: str) -> None:
    if status == 401:
        raise McpUnauthenticatedError(f"MCP server {name} refused the credentials (401)")
    if status == 403:
        raise McpForbiddenError(f"MCP server {name} refused the call (403)")
    if status == 429 or status >= 500:
        raise McpUnavailableError(f"MCP server {name} is unavailable (HTTP {status})")
    if not 200 <= status < 300:
        raise McpProtocolError(f"MCP server {name} answered HTTP {status}")


def _parse(result_type: type[_ResultT], raw: dict[str, Any], name: str) -> _ResultT:
    try:
        return result_type.model_validate(raw)
    except ValidationError as err:
        raise McpProtocolError(f"MCP server {name} answered with something that is not MCP") from err


def _sse_message(text: str, request_id: int) -> str:
    """The data of the SSE event that answers `request_id` (a server may answer a POST as a stream)."""
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:"))
        if not data:
            continue
        try:
            candidate = json.loads(data)
        except ValueError:
            continue
        if isinstance(candidate, dict) and candidate.get("id") == request_id and "method" not in candidate:
            return data
    raise ValueError("no answer to the request in the event stream")
