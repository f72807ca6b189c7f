"""McpSessionPool: MCP calls at a flat cost per user, so a tool call costs one request, not a handshake.

A first-party server that is stateless by configuration gets no session at all: its calls are
independent requests over one connection pool per server, each with its caller's token
(`StatelessMcpCaller`), so a new user or a refreshed token costs nothing. Every other server
gets long-lived sessions, one per principal and server (`mcp_session_key`), never per token:
state a server keeps per session never crosses principals, and a refreshed token reuses the
session, each request carrying the token of the call it serves (`McpCallScope`). Sessions to
the operator's (system) servers share one connection pool per server; a registered server's
session connects through a transport of its own (`HttpTransportFactory`).

A call leases its session for as long as it runs. A session is retired when it stays idle,
when the newest token it was given expires, when the pool is full (the least recently used
session no call holds), when an answer was refused, or when the server refuses or drops it; a
retired session closes as soon as no call holds it, never under a running call. A forwarded
token that has expired is refused before anything is sent.

What a server sends back is bounded (`McpClientLimits`): bytes per answer, pages and tools
per listing, time per listing.

Metrics (`mcp_session_metrics`): the sessions open and leased (`atoms_agent_mcp_sessions`),
kept to the pool's state at every change and back to nothing when the pool closes, and the
sessions retired, by reason (`atoms_agent_mcp_session_evictions_total`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import mcp

from atoms_agent.errors import (
    AgentError,
    McpProtocolError,
    McpUnauthenticatedError,
    McpUnavailableError,
)
from atoms_agent.mcp_call_scope import McpCallScope, mcp_call_scope
from atoms_agent.mcp_call_tracing import mcp_client_span
from atoms_agent.mcp_client_limits import McpClientLimits
from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_agent.mcp_connection_pools import McpConnectionPools
from atoms_agent.mcp_session_id_redaction import install_session_id_redaction
from atoms_agent.mcp_session_key import session_key, session_may_be_shared
from atoms_agent.mcp_session_metrics import EvictionReason, SessionGaugeShare, count_eviction
from atoms_agent.mcp_tool_listing import list_every_page
from atoms_agent.pooled_mcp_session import HttpTransportFactory, PooledMcpSession
from atoms_grpc.principal import Principal
from atoms_grpc.request_context import current_request_id
from atoms_grpc.request_id_interceptor import REQUEST_ID_METADATA_KEY
from atoms_grpc.tracing import inject_trace_headers, tracing_enabled

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_REAP_INTERVAL_S = 10.0
_LEASE_ATTEMPTS = 3


class McpSessionPool:
    """MCP calls: sessionless for stateless first-party servers, else one session per principal and server."""

    def __init__(
        self,
        *,
        idle_s: float,
        max_entries: int,
        request_timeout_s: float,
        limits: McpClientLimits | None = None,
        stateless_first_party: frozenset[str] = frozenset(),
        http_transport_factory: HttpTransportFactory | None = None,
    ) -> None:
        """Args:
        idle_s: a session nobody used for this long is closed.
        max_entries: sessions kept open; beyond it the least recently used one no call holds is
            retired.
        request_timeout_s: the HTTP read timeout of every session.
        limits: what one server may send back; the defaults when None.
        stateless_first_party: names of first-party servers configured `stateless`: called
            without a session, over one connection pool callers share.
        http_transport_factory: where sessions get their transport (the egress guard); see
            `HttpTransportFactory`. None, or None from it: the pool's connection pool for a
            system server, httpx2's default transport for any other.
        """
        self._idle_s = idle_s
        self._max_entries = max_entries
        self._request_timeout_s = request_timeout_s
        self._limits = limits or McpClientLimits()
        self._stateless_first_party = stateless_first_party
        self._transport_factory = http_transport_factory
        self._sessions: OrderedDict[bytes, PooledMcpSession] = OrderedDict()
        self._draining: set[PooledMcpSession] = set()
        self._leased: set[PooledMcpSession] = set()
        self._gauges = SessionGaugeShare()
        self._opening: dict[bytes, asyncio.Task[PooledMcpSession]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._connections = McpConnectionPools(
            request_timeout_s=request_timeout_s,
            max_response_bytes=self._limits.max_response_bytes,
            transport_factory=http_transport_factory,
        )
        install_session_id_redaction()

    def __len__(self) -> int:
        """Open sessions (stateless servers need none)."""
        return len(self._sessions)

    async def list_tools(
        self, server: ComposedMcpServer, *, principal: Principal, timeout_s: float
    ) -> list[Any]:
        """The server's tools (every page, within the listing bounds).

        Raises:
            McpLimitExceededError: too many pages or tools, too slow, or an answer too large.
            AgentError: the server could not be reached or refused the caller, or the forwarded
                token has expired.
        """
        _refuse_expired(server)
        if self._sessionless(server):
            caller = self._connections.stateless_caller(server)
            with mcp_client_span("tools/list", server):
                return await list_every_page(
                    server.name,
                    self._limits,
                    lambda cursor: caller.list_tools(
                        cursor=cursor, headers=call_headers(server), timeout_s=timeout_s
                    ),
                )

        async def call(client: mcp.Client) -> list[Any]:
            return await list_every_page(
                server.name, self._limits, lambda cursor: client.list_tools(cursor=cursor)
            )

        return await self._with_session(server, principal, call, timeout_s)

    async def call_tool(
        self,
        server: ComposedMcpServer,
        name: str,
        arguments: dict[str, Any],
        *,
        principal: Principal,
        timeout_s: float,
    ) -> Any:
        """Call one tool and return the MCP `CallToolResult`.

        Raises:
            AgentError: the server could not be reached, refused the call, or answered too much;
                or the forwarded token has expired.
        """
        _refuse_expired(server)
        if self._sessionless(server):
            with mcp_client_span("tools/call", server, tool=name):
                return await self._connections.stateless_caller(server).call_tool(
                    name, arguments, headers=call_headers(server), timeout_s=timeout_s
                )
        return await self._with_session(
            server,
            principal,
            lambda client: client.call_tool(name, arguments, read_timeout_seconds=timeout_s),
            timeout_s,
        )

    async def reap(self) -> int:
        """Retire sessions that are idle, dead, refused or hold only an expired token; return how many.

        A session a call holds is not idle, and one whose token expired is kept while a call
        holds it (the next call brings a fresh token); a dead or refused one takes no new
        calls and closes when its last call ends.
        """
        now = time.monotonic()
        stale = [
            (key, session, reason)
            for key, session in self._sessions.items()
            if (reason := self._staleness(session, now)) is not None
        ]
        closing = [
            task for key, session, reason in stale if (task := self._retire(key, session, reason)) is not None
        ]
        await asyncio.gather(*closing)
        return len(stale)

    async def close(self) -> None:
        """Close every session, held or not, and stop the reaper (shutdown: calls have drained)."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        sessions = [*self._sessions.values(), *self._draining]
        self._sessions, self._draining, self._leased = OrderedDict(), set(), set()
        for session in sessions:
            # A call still running on it must not put it back (draining) nor count it evicted.
            session.retired = True
        self._report()
        await asyncio.gather(*(session.close() for session in sessions), *self._closing)
        await self._connections.aclose()

    def _sessionless(self, server: ComposedMcpServer) -> bool:
        return session_may_be_shared(server, self._stateless_first_party)

    async def _with_session(
        self,
        server: ComposedMcpServer,
        principal: Principal,
        call: Callable[[mcp.Client], Awaitable[_T]],
        timeout_s: float,
    ) -> _T:
        key = session_key(server, principal, stateless_first_party=self._stateless_first_party)
        session = await self._lease(key, server, timeout_s)
        try:
            return await self._run(key, session, server, call, timeout_s)
        finally:
            self._release(session)

    async def _run(
        self,
        key: bytes,
        session: PooledMcpSession,
        server: ComposedMcpServer,
        call: Callable[[mcp.Client], Awaitable[_T]],
        timeout_s: float,
    ) -> _T:
        name, client = session.server.name, session.client
        if client is None:
            self._retire(key, session, EvictionReason.FAILED)
            raise session.translate(None)
        with mcp_call_scope(call_headers(server)) as scope:
            try:
                async with asyncio.timeout(timeout_s):
                    return await call(client)
            except AgentError:
                raise  # a bound of our own (pages, tools, listing time): the session is fine
            except TimeoutError as err:
                raise McpUnavailableError(f"MCP server {name} did not answer within the deadline") from err
            except mcp.MCPError as err:
                if scope.refusal is not None or scope.status in (401, 403) or not session.alive:
                    self._retire(key, session, _failure_reason(scope))
                    raise session.translate(err, scope) from err
                raise McpProtocolError(f"MCP server {name}: {err.message}") from err
            except Exception as err:
                self._retire(key, session, _failure_reason(scope))
                raise session.translate(err, scope) from err

    async def _lease(self, key: bytes, server: ComposedMcpServer, timeout_s: float) -> PooledMcpSession:
        self._start_reaper()
        for _ in range(_LEASE_ATTEMPTS):
            session = self._sessions.get(key)
            if session is not None:
                session.present(server)  # a refreshed token: the same session, newer credentials
            if session is not None and not self._usable(session):
                self._retire(key, session, EvictionReason.FAILED)
                session = None
            if session is None:
                session = await self._opened(key, server, timeout_s)
            # Another task may have retired it while this one waited for the handshake.
            if self._sessions.get(key) is session and self._usable(session):
                self._sessions.move_to_end(key)
                session.leases += 1
                session.last_used = time.monotonic()
                self._leased.add(session)
                self._report()
                return session
        raise McpUnavailableError(f"MCP server {server.name}: the session pool is too busy, try again")

    def _release(self, session: PooledMcpSession) -> None:
        session.leases -= 1
        session.last_used = time.monotonic()
        if session.leases == 0:
            self._leased.discard(session)
            if session.retired:
                self._draining.discard(session)
                self._close_later(session)
        self._report()

    async def _opened(self, key: bytes, server: ComposedMcpServer, timeout_s: float) -> PooledMcpSession:
        opening = self._opening.get(key)
        if opening is None:
            opening = asyncio.get_running_loop().create_task(self._open(key, server, timeout_s))
            self._opening[key] = opening
            opening.add_done_callback(lambda _task: self._opening.pop(key, None))
        # shield: one caller's cancellation must not abort a session others are waiting for.
        return await asyncio.shield(opening)

    async def _open(self, key: bytes, server: ComposedMcpServer, timeout_s: float) -> PooledMcpSession:
        session = PooledMcpSession(
            server,
            request_timeout_s=self._request_timeout_s,
            max_response_bytes=self._limits.max_response_bytes,
            transport_factory=self._transport_factory,
            shared_transport=self._connections.session_transport,
        )
        await session.open(min(timeout_s, self._request_timeout_s))
        self._sessions[key] = session
        self._evict_beyond_max(keep=key)
        self._report()
        return session

    def _evict_beyond_max(self, *, keep: bytes | None = None) -> None:
        """Retire the least recently used sessions no call holds until the pool fits its bound.

        A session a call holds is never evicted, nor `keep` (just opened, about to be leased):
        when every other session is held the pool stays over its bound until calls end (the
        reaper trims it then).
        """
        excess = len(self._sessions) - max(self._max_entries, 1)
        if excess <= 0:
            return
        idle = [
            (key, session) for key, session in self._sessions.items() if session.leases == 0 and key != keep
        ]
        for key, session in idle[:excess]:
            self._retire(key, session, EvictionReason.CAPACITY)

    def _usable(self, session: PooledMcpSession) -> bool:
        return session.alive and not session.retired and session.refusal is None

    def _staleness(self, session: PooledMcpSession, now: float) -> EvictionReason | None:
        """Why the reaper retires `session` now, or None to keep it."""
        if not self._usable(session):
            return EvictionReason.FAILED
        if session.leases > 0:
            return None
        if _expired(session.token_expires_at):
            return EvictionReason.EXPIRED
        if now - session.last_used > self._idle_s:
            return EvictionReason.IDLE
        return None

    def _retire(
        self, key: bytes, session: PooledMcpSession, reason: EvictionReason
    ) -> asyncio.Task[None] | None:
        """Take the session out of the pool; close it now, or when its last call ends."""
        if self._sessions.get(key) is session:
            del self._sessions[key]
        if session.retired:
            return None
        session.retired = True
        count_eviction(reason)
        closing = None
        if session.leases > 0:
            self._draining.add(session)
        else:
            closing = self._close_later(session)
        self._report()
        return closing

    def _report(self) -> None:
        """Bring this pool's part of the session gauges to its state (after every change)."""
        self._gauges.report(
            open_sessions=len(self._sessions) + len(self._draining), leased_sessions=len(self._leased)
        )

    def _close_later(self, session: PooledMcpSession) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(session.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return task

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(_REAP_INTERVAL_S)
            await self.reap()
            self._evict_beyond_max()


def _failure_reason(scope: McpCallScope) -> EvictionReason:
    """A session retired after a failed call: the server refused the call's credentials, or it broke."""
    if scope.refusal is None and scope.status in (401, 403):
        return EvictionReason.REFUSED
    return EvictionReason.FAILED


def _expired(expires_at: float | None) -> bool:
    return expires_at is not None and time.time() >= expires_at


def call_headers(server: ComposedMcpServer) -> Mapping[str, str]:
    """The headers of one call's requests: the server's own, plus the caller's request id and trace.

    The request id and, with tracing on, the current span's `traceparent` go to first-party
    servers only, so their log lines and spans join those of the call that reached the agent;
    a registered server gets nothing of ours it did not ask for.
    """
    if not server.first_party:
        return server.headers
    request_id = current_request_id()
    if not (request_id or tracing_enabled()):
        return server.headers
    headers = dict(server.headers)
    if request_id:
        headers[REQUEST_ID_METADATA_KEY] = request_id
    inject_trace_headers(headers)
    return headers


def _refuse_expired(server: ComposedMcpServer) -> None:
    """An expired forwarded token is never sent: the caller signs in again."""
    if server.forwards_user_token and _expired(server.token_expires_at):
        raise McpUnauthenticatedError(f"the caller's token for MCP server {server.name} has expired")
