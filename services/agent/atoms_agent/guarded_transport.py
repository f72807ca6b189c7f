"""Connections to registered MCP servers that go only to addresses the EgressGuard passed.

httpcore2 opens every TCP connection through a network backend's `connect_tcp(host, port)`.
`GuardedNetworkBackend` resolves `host` itself, through the guard, and connects to one of the
permitted addresses by number; the TLS handshake that follows still names the URL's host (SNI
and certificate check, httpcore2 passes `server_hostname` from the URL's origin, not from the
address), and httpx2 writes `Host` from the URL. A rebinding answer between registration and
connection therefore reaches nothing.

Every failure to connect (refused by the policy, DNS failure, refused by the peer, timed out)
leaves as the same `ConnectError` with the same message, so a caller cannot tell them apart and
cannot map which internal ports are open; the real reason goes to the log.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterable

import httpcore2
import httpx2

from atoms_agent.egress_guard import EgressGuard, EgressRefusedError
from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_agent.mcp_registry import ServerScope

logger = logging.getLogger(__name__)

UNREACHABLE_MESSAGE = "the MCP server could not be reached"
_DEFAULT_LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20)


class GuardedNetworkBackend(httpcore2.AsyncNetworkBackend):
    """A network backend that connects only to addresses the guard permits."""

    def __init__(self, guard: EgressGuard, *, inner: httpcore2.AsyncNetworkBackend | None = None) -> None:
        self._guard = guard
        self._inner = inner if inner is not None else httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        """Resolve `host` through the guard and connect to the first permitted address that answers.

        Raises:
            httpcore2.ConnectError: no permitted address could be connected to (one message for all).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            addresses = await self._guard.permitted_addresses(host, port, timeout_s=timeout)
        except EgressRefusedError as err:
            logger.warning("refused to connect to registered MCP host %s port %d: %s", host, port, err)
            raise httpcore2.ConnectError(UNREACHABLE_MESSAGE) from None
        failure: Exception | None = None
        for address in addresses:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.001)
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=remaining,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout, OSError) as err:
                failure = err
        logger.info(
            "could not connect to registered MCP host %s port %d: %s", host, port, type(failure).__name__
        )
        raise httpcore2.ConnectError(UNREACHABLE_MESSAGE) from None

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        """Never: a registered server is reached over TCP only."""
        raise httpcore2.ConnectError(UNREACHABLE_MESSAGE)

    async def sleep(self, seconds: float) -> None:
        """Wait between connection retries (the inner backend's way)."""
        await self._inner.sleep(seconds)


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport, connecting through a GuardedNetworkBackend; proxies from the environment unused.

    httpx2 takes no network backend, so the connection pool its constructor builds is replaced
    by one with the same options and the guarded backend. `handle_async_request` keeps mapping
    httpcore2's errors to httpx2's. tests/agent/test_egress_guard.py fails if httpx2 stops
    sending requests through `_pool`.
    """

    def __init__(
        self,
        *,
        guard: EgressGuard,
        verify: ssl.SSLContext | bool = True,
        limits: httpx2.Limits = _DEFAULT_LIMITS,
    ) -> None:
        context = httpx2.create_ssl_context(verify=verify, trust_env=False)  # once: loading CAs costs
        super().__init__(verify=context, trust_env=False, limits=limits)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(guard),
        )


class RegisteredServerTransports:
    """The session pool's `http_transport_factory`: guarded transports for registered servers.

    System servers come from the operator's configuration and are not subject to the policy
    (None: the pool's default transport).
    """

    def __init__(self, guard: EgressGuard, *, verify: ssl.SSLContext | bool = True) -> None:
        self._guard = guard
        self._ssl_context = httpx2.create_ssl_context(verify=verify, trust_env=False)  # shared by all

    def __call__(self, server: ComposedMcpServer) -> httpx2.AsyncBaseTransport | None:
        """A new transport for one session to `server`, or None for a system server."""
        if server.scope is ServerScope.SYSTEM:
            return None
        return GuardedTransport(guard=self._guard, verify=self._ssl_context)
