"""ToolGateway: a caller's MCP tools, through the composed configuration and the session pool.

The gRPC servicer, the chat loop and the HTTP face all go through here, so they share one
path: compose for the caller, pick the server by name, call through a pooled session.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from atoms_agent.errors import AgentError, McpServerNotFoundError, ToolNotFoundError
from atoms_agent.mcp_composition import ComposedMcpServer, McpComposer
from atoms_agent.mcp_session_pool import McpSessionPool
from atoms_grpc.principal import Principal

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServerTools:
    """The tools of one server, or why they could not be listed (`failure_reason`: an ErrorReason)."""

    server: ComposedMcpServer
    tools: tuple[Any, ...] = ()
    failure: str = ""
    failure_reason: str = ""


class ToolGateway:
    """Lists and calls a caller's MCP tools."""

    def __init__(self, *, composer: McpComposer, pool: McpSessionPool) -> None:
        self._composer = composer
        self._pool = pool

    async def compose(self, principal: Principal, token: str) -> list[ComposedMcpServer]:
        """The caller's servers (with real headers: never return these to a caller as they are)."""
        return await self._composer.compose(principal, token)

    async def list_tools(
        self, principal: Principal, token: str, *, server_name: str, timeout_s: float
    ) -> list[ServerTools]:
        """The tools of one server (`server_name`) or of all, concurrently; failures are reported per server.

        Raises:
            McpServerNotFoundError: `server_name` names no server of the caller's.
            AgentError: the one named server failed.
        """
        servers = await self.compose(principal, token)
        if server_name:
            server = _find(servers, server_name)
            tools = await self._pool.list_tools(server, principal=principal, timeout_s=timeout_s)
            return [ServerTools(server, tuple(tools))]
        return list(
            await asyncio.gather(*(self._tools_of(server, principal, timeout_s) for server in servers))
        )

    async def call_tool(
        self,
        principal: Principal,
        token: str,
        *,
        server_name: str,
        tool_name: str,
        arguments: dict[str, Any],
        timeout_s: float,
    ) -> Any:
        """Call one tool; return the MCP `CallToolResult`.

        Raises:
            McpServerNotFoundError: no server of that name for the caller.
            ToolNotFoundError: the server has no tool of that name.
            AgentError: the server refused or failed the call.
        """
        server = await self._composer.find(principal, token, server_name)
        if server is None:
            raise McpServerNotFoundError(f"no MCP server named {server_name!r} for this caller")
        result = await self._pool.call_tool(
            server, tool_name, arguments, principal=principal, timeout_s=timeout_s
        )
        if result.is_error:
            # Servers report an unknown tool as a tool error; only then is the listing worth fetching.
            tools = await self._pool.list_tools(server, principal=principal, timeout_s=timeout_s)
            if all(tool.name != tool_name for tool in tools):
                raise ToolNotFoundError(f"MCP server {server_name!r} has no tool named {tool_name!r}")
        return result

    async def _tools_of(
        self, server: ComposedMcpServer, principal: Principal, timeout_s: float
    ) -> ServerTools:
        try:
            tools = await self._pool.list_tools(server, principal=principal, timeout_s=timeout_s)
        except AgentError as err:
            logger.info("listing tools of %s failed: %s", server.name, err.reason)
            return ServerTools(server, failure=err.message, failure_reason=err.reason)
        return ServerTools(server, tuple(tools))


def _find(servers: list[ComposedMcpServer], name: str) -> ComposedMcpServer:
    for server in servers:
        if server.name == name:
            return server
    raise McpServerNotFoundError(f"no MCP server named {name!r} for this caller")
