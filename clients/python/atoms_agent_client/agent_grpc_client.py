"""AgentGrpcClient: `atoms.agent.v1.AgentService` with the user's token in the `authorization` metadata."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc
from google.protobuf import struct_pb2

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms_agent_client.chat_types import ChatMessage, ToolResult
from atoms_agent_client.errors import error_from_rpc_error
from atoms_agent_client.mcp_auth_headers import SessionSource, get_bearer_headers

logger = logging.getLogger(__name__)

DEFAULT_AGENT_ADDR = "127.0.0.1:50052"
DEFAULT_TIMEOUT_S = 60.0

_Response = TypeVar("_Response")
Metadata = tuple[tuple[str, str], ...]

# Pages a list method follows before it stops: a bound on a misbehaving server's answers.
MAX_PAGES = 100


class AgentGrpcClient:
    """A client of one agent's gRPC API on behalf of one session source.

    Every call carries `authorization: Bearer <token>` from the session (none when it has no
    token, and the agent answers UNAUTHENTICATED MISSING_TOKEN) and a deadline. Failures
    raise AgentError subclasses with the agent's code, ErrorInfo reason and domain.
    """

    def __init__(
        self,
        *,
        target: str = DEFAULT_AGENT_ADDR,
        session: SessionSource | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        credentials: grpc.ChannelCredentials | None = None,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        """Args:
        target: `host:port` of the agent (ATOMS_AGENT_ADDR).
        session: where the user's token comes from, called once per call.
        timeout_s: the deadline of each call (of the whole stream, for `chat`).
        credentials: TLS credentials; plaintext when None (loopback and development only:
            the token travels in the metadata).
        channel: an existing channel; the caller is then responsible for its lifecycle.

        Raises:
            ValueError: `timeout_s` is not positive, or both `credentials` and `channel` are given.
        """
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        if credentials is not None and channel is not None:
            raise ValueError("pass credentials or a channel, not both")
        self._owns_channel = channel is None
        if channel is None:
            channel = (
                grpc.aio.secure_channel(target, credentials)
                if credentials is not None
                else grpc.aio.insecure_channel(target)
            )
        self._channel = channel
        self._stub = agent_pb2_grpc.AgentServiceStub(channel)
        self._session = session
        self._timeout_s = timeout_s

    async def close(self) -> None:
        """Close the channel, if this object opened it."""
        if self._owns_channel:
            await self._channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def compose_mcp_servers(self) -> list[agent_pb2.McpServerConfig]:
        """The caller's MCP configurations as the agent will use them (secrets redacted)."""
        response = await self._unary(self._stub.ComposeMcpServers, agent_pb2.ComposeMcpServersRequest())
        return list(response.servers)

    async def list_mcp_servers(self) -> list[agent_pb2.McpServer]:
        """Every registry entry the caller can see, all pages (at most `MAX_PAGES` of them)."""
        servers: list[agent_pb2.McpServer] = []
        token = ""
        for _ in range(MAX_PAGES):
            response: agent_pb2.ListMcpServersResponse = await self._unary(
                self._stub.ListMcpServers, agent_pb2.ListMcpServersRequest(page_token=token)
            )
            servers.extend(response.servers)
            token = response.next_page_token
            if not token:
                break
        return servers

    async def register_mcp_server(
        self,
        *,
        name: str,
        url: str,
        scope: agent_pb2.McpServerScope,
        auth_type: agent_pb2.McpAuthType = agent_pb2.MCP_AUTH_TYPE_NONE,
        bearer_token: str = "",
    ) -> agent_pb2.McpServer:
        """Register an MCP server for the caller (USER) or the caller's organization (ORGANIZATION)."""
        request = agent_pb2.RegisterMcpServerRequest(
            name=name, url=url, scope=scope, auth_type=auth_type, bearer_token=bearer_token
        )
        response: agent_pb2.RegisterMcpServerResponse = await self._unary(
            self._stub.RegisterMcpServer, request
        )
        return response.server

    async def delete_mcp_server(self, server_id: str) -> None:
        """Delete a registration the caller may delete."""
        await self._unary(self._stub.DeleteMcpServer, agent_pb2.DeleteMcpServerRequest(id=server_id))

    async def list_tools(self, server_name: str = "") -> agent_pb2.ListToolsResponse:
        """The tools of one server, or of all the caller's servers (with the ones that failed).

        Every page is fetched (at most `MAX_PAGES`) and merged into one response; the failures
        are those of the last page's listing.
        """
        merged = agent_pb2.ListToolsResponse()
        token = ""
        for _ in range(MAX_PAGES):
            response: agent_pb2.ListToolsResponse = await self._unary(
                self._stub.ListTools, agent_pb2.ListToolsRequest(server_name=server_name, page_token=token)
            )
            merged.tools.extend(response.tools)
            del merged.failures[:]
            merged.failures.extend(response.failures)
            token = response.next_page_token
            if not token:
                break
        return merged

    async def call_tool(
        self, server_name: str, tool_name: str, arguments: Mapping[str, Any] | None = None
    ) -> ToolResult:
        """Call one tool of one of the caller's MCP servers through the agent.

        Raises:
            AgentError: NOT_FOUND (`MCP_SERVER_NOT_FOUND`, `TOOL_NOT_FOUND`), INVALID_ARGUMENT, ...
            AgentUnauthenticatedError: the agent or the MCP server refused the token.
            AgentUnavailableError: the agent or the MCP server could not be reached.
        """
        struct = struct_pb2.Struct()
        struct.update(dict(arguments or {}))
        request = agent_pb2.CallToolRequest(server_name=server_name, tool_name=tool_name, arguments=struct)
        return ToolResult.from_proto(await self._unary(self._stub.CallTool, request))

    async def chat(
        self, messages: Sequence[ChatMessage], *, model: str = ""
    ) -> AsyncIterator[agent_pb2.ChatResponse]:
        """Stream the model's answer: text deltas, tool calls, tool results, then done.

        Raises:
            AgentError: FAILED_PRECONDITION `MODEL_NOT_CONFIGURED`, INVALID_ARGUMENT, ...
            AgentUnauthenticatedError, AgentUnavailableError: as for `call_tool`.
        """
        request = agent_pb2.ChatRequest(
            messages=[agent_pb2.ChatMessage(role=m.role, content=m.content) for m in messages], model=model
        )
        call = self._stub.Chat(request, metadata=await self._metadata(), timeout=self._timeout_s)
        try:
            async for event in call:
                yield event
        except grpc.aio.AioRpcError as err:
            raise error_from_rpc_error(err) from err
        finally:
            call.cancel()  # a consumer that stops early must not leave the stream running

    async def _unary(self, method: Callable[..., Awaitable[_Response]], request: Any) -> _Response:
        try:
            return await method(request, metadata=await self._metadata(), timeout=self._timeout_s)
        except grpc.aio.AioRpcError as err:
            raise error_from_rpc_error(err) from err

    async def _metadata(self) -> Metadata:
        headers = await get_bearer_headers(self._session)
        return tuple((name.lower(), value) for name, value in headers.items())
