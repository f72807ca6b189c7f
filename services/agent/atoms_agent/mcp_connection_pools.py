"""McpConnectionPools: the HTTP connection pools MCP calls share, one per server, never per user.

A stateless first-party server gets one `StatelessMcpCaller` (its own connection pool, every
caller's requests with their own token). Sessions to a system server borrow one connection
pool per server: connections carry no credentials, each request brings the headers of the
call it serves. A registered server is not pooled here: each session connects through a
transport of its own (`HttpTransportFactory`), so a server a user chose never sees two
principals on one connection.
"""

from __future__ import annotations

import asyncio

import httpx2

from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_agent.mcp_registry import ServerScope
from atoms_agent.pooled_mcp_session import HttpTransportFactory
from atoms_agent.stateless_mcp_caller import StatelessMcpCaller

# Enough connections for the agent's concurrency to one server, kept alive between calls.
SHARED_POOL_LIMITS = httpx2.Limits(max_connections=256, max_keepalive_connections=64)


class McpConnectionPools:
    """Shared callers and connection pools, made on first use and closed together."""

    def __init__(
        self,
        *,
        request_timeout_s: float,
        max_response_bytes: int,
        transport_factory: HttpTransportFactory | None = None,
    ) -> None:
        """Args:
        request_timeout_s: the HTTP read timeout of every stateless request.
        max_response_bytes: the most decoded bytes one stateless answer may have.
        transport_factory: consulted once per stateless server; None, or None from it:
            httpx2's transport with `SHARED_POOL_LIMITS`.
        """
        self._request_timeout_s = request_timeout_s
        self._max_response_bytes = max_response_bytes
        self._transport_factory = transport_factory
        self._callers: dict[tuple[str, str], StatelessMcpCaller] = {}
        self._transports: dict[str, httpx2.AsyncBaseTransport] = {}

    def stateless_caller(self, server: ComposedMcpServer) -> StatelessMcpCaller:
        """The caller of a stateless first-party server (by name and URL).

        Raises:
            AgentError: the transport factory refused the server.
        """
        key = (server.name, server.url)
        caller = self._callers.get(key)
        if caller is None:
            given = self._transport_factory(server) if self._transport_factory is not None else None
            caller = StatelessMcpCaller(
                name=server.name,
                url=server.url,
                transport=given
                if given is not None
                else httpx2.AsyncHTTPTransport(limits=SHARED_POOL_LIMITS),
                request_timeout_s=self._request_timeout_s,
                max_response_bytes=self._max_response_bytes,
            )
            self._callers[key] = caller
        return caller

    def session_transport(self, server: ComposedMcpServer) -> httpx2.AsyncBaseTransport | None:
        """The connection pool sessions to a system server share; None for a registered server."""
        if server.scope is not ServerScope.SYSTEM:
            return None
        transport = self._transports.get(server.url)
        if transport is None:
            transport = httpx2.AsyncHTTPTransport(limits=SHARED_POOL_LIMITS)
            self._transports[server.url] = transport
        return transport

    async def aclose(self) -> None:
        """Close every caller and connection pool (shutdown: sessions are closed first)."""
        callers, self._callers = list(self._callers.values()), {}
        transports, self._transports = list(self._transports.values()), {}
        await asyncio.gather(*(caller.aclose() for caller in callers), *(t.aclose() for t in transports))
