"""McpSessionPool: long-lived MCP client sessions, so a tool call costs one request, not a handshake.

Sessions are keyed by server URL and a digest of the headers they send (so by the caller's
token fingerprint for first-party servers): a session never carries one user's token for
another. A session closes when it stays idle, when the token it carries expires, when the
pool is full (least recently used first), or when the server refuses or drops it.

Each session is opened and closed by its own owner task: the MCP client's task groups must be
entered and exited in the same task, while any request task may send through the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client

from services.agent.errors import (
    AgentError,
    McpForbiddenError,
    McpProtocolError,
    McpUnauthenticatedError,
    McpUnavailableError,
)
from services.agent.mcp_composition import ComposedMcpServer

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_CONNECT_TIMEOUT_S = 5.0
_REAP_INTERVAL_S = 10.0


class PooledMcpSession:
    """One open MCP client session, owned by its own task."""

    def __init__(self, server: ComposedMcpServer, *, request_timeout_s: float) -> None:
        self.server = server
        self.last_used = time.monotonic()
        self.last_status: int | None = None
        self.client: mcp.Client | None = None
        self._request_timeout_s = request_timeout_s
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._error: BaseException | None = None
        self._owner: asyncio.Task[None] | None = None

    async def open(self, timeout_s: float) -> None:
        """Start the owner task and wait for the MCP handshake.

        Raises:
            AgentError: the server could not be reached or refused the session.
        """
        self._owner = asyncio.get_running_loop().create_task(self._own())
        try:
            async with asyncio.timeout(timeout_s):
                await self._ready.wait()
        except TimeoutError as err:
            await self.close()
            raise McpUnavailableError(f"MCP server {self.server.name} did not answer in time") from err
        if self._error is not None or self.client is None:
            await self.close()
            raise self.translate(self._error)

    async def close(self) -> None:
        """Close the session (its owner task ends the HTTP session and exits)."""
        self._closing.set()
        if self._owner is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._owner, timeout=5.0)

    @property
    def alive(self) -> bool:
        """True while the owner task holds an open session."""
        return self._owner is not None and not self._owner.done() and self.client is not None

    def translate(self, error: BaseException | None) -> AgentError:
        """Map what went wrong (HTTP status seen, exception) to the agent's error."""
        status, name = self.last_status, self.server.name
        if status == 401:
            return McpUnauthenticatedError(f"MCP server {name} refused the credentials (401)")
        if status == 403:
            return McpForbiddenError(f"MCP server {name} refused the call (403)")
        if status is not None and (status == 429 or status >= 500):
            return McpUnavailableError(f"MCP server {name} is unavailable (HTTP {status})")
        if isinstance(error, (httpx2.TransportError, OSError, TimeoutError)) or _has_transport_error(error):
            return McpUnavailableError(f"MCP server {name} could not be reached")
        return McpProtocolError(f"MCP server {name} answered with an MCP error")

    async def _own(self) -> None:
        timeout = httpx2.Timeout(self._request_timeout_s, connect=_CONNECT_TIMEOUT_S)
        try:
            async with (
                httpx2.AsyncClient(
                    headers=dict(self.server.headers),
                    timeout=timeout,
                    follow_redirects=False,
                    event_hooks={"response": [self._record_status]},
                ) as http,
                mcp.Client(streamable_http_client(self.server.url, http_client=http)) as client,
            ):
                self.client = client
                self._ready.set()
                await self._closing.wait()
        except BaseException as err:  # recorded and translated for the caller
            self._error = err
            logger.info("MCP session to %s ended: %s", self.server.name, type(err).__name__)
        finally:
            self.client = None
            self._ready.set()

    async def _record_status(self, response: httpx2.Response) -> None:
        self.last_status = response.status_code


def _has_transport_error(error: BaseException | None) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return any(_has_transport_error(inner) for inner in error.exceptions)
    return isinstance(error, (httpx2.TransportError, OSError))


class McpSessionPool:
    """Pooled MCP sessions keyed by server URL and credentials digest."""

    def __init__(self, *, idle_s: float, max_entries: int, request_timeout_s: float) -> None:
        self._idle_s = idle_s
        self._max_entries = max_entries
        self._request_timeout_s = request_timeout_s
        self._sessions: OrderedDict[bytes, PooledMcpSession] = OrderedDict()
        self._opening: dict[bytes, asyncio.Task[PooledMcpSession]] = {}
        self._reaper: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._sessions)

    async def list_tools(self, server: ComposedMcpServer, *, timeout_s: float) -> list[Any]:
        """The server's tools (every page)."""

        async def call(client: mcp.Client) -> list[Any]:
            tools: list[Any] = []
            cursor: str | None = None
            while True:
                page = await client.list_tools(cursor=cursor)
                tools.extend(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    return tools

        return await self._with_session(server, call, timeout_s)

    async def call_tool(
        self, server: ComposedMcpServer, name: str, arguments: dict[str, Any], *, timeout_s: float
    ) -> Any:
        """Call one tool and return the MCP `CallToolResult`."""
        return await self._with_session(
            server,
            lambda client: client.call_tool(name, arguments, read_timeout_seconds=timeout_s),
            timeout_s,
        )

    async def close(self) -> None:
        """Close every session and stop the reaper."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        sessions, self._sessions = list(self._sessions.values()), OrderedDict()
        await asyncio.gather(*(session.close() for session in sessions))

    async def _with_session(
        self, server: ComposedMcpServer, call: Callable[[mcp.Client], Awaitable[_T]], timeout_s: float
    ) -> _T:
        key = _session_key(server)
        session = await self._lease(key, server, timeout_s)
        client = session.client
        if client is None:
            await self._evict(key, session)
            raise session.translate(None)
        try:
            async with asyncio.timeout(timeout_s):
                result = await call(client)
        except TimeoutError as err:
            raise McpUnavailableError(f"MCP server {server.name} did not answer within the deadline") from err
        except mcp.MCPError as err:
            if session.last_status in (401, 403) or not session.alive:
                await self._evict(key, session)
                raise session.translate(err) from err
            raise McpProtocolError(f"MCP server {server.name}: {err.message}") from err
        except Exception as err:
            await self._evict(key, session)
            raise session.translate(err) from err
        session.last_used = time.monotonic()
        return result

    async def _lease(self, key: bytes, server: ComposedMcpServer, timeout_s: float) -> PooledMcpSession:
        self._start_reaper()
        session = self._sessions.get(key)
        if session is not None and session.alive and not _token_expired(server):
            self._sessions.move_to_end(key)
            session.last_used = time.monotonic()
            return session
        if session is not None:
            await self._evict(key, session)
        opening = self._opening.get(key)
        if opening is None:
            opening = asyncio.get_running_loop().create_task(self._open(key, server, timeout_s))
            self._opening[key] = opening
            opening.add_done_callback(lambda _task: self._opening.pop(key, None))
        # shield: one caller's cancellation must not abort a session others are waiting for.
        return await asyncio.shield(opening)

    async def _open(self, key: bytes, server: ComposedMcpServer, timeout_s: float) -> PooledMcpSession:
        session = PooledMcpSession(server, request_timeout_s=self._request_timeout_s)
        await session.open(min(timeout_s, self._request_timeout_s))
        self._sessions[key] = session
        while len(self._sessions) > self._max_entries:
            _, oldest = self._sessions.popitem(last=False)
            asyncio.get_running_loop().create_task(oldest.close())
        return session

    async def _evict(self, key: bytes, session: PooledMcpSession) -> None:
        if self._sessions.get(key) is session:
            del self._sessions[key]
        await session.close()

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(_REAP_INTERVAL_S)
            await self.reap()

    async def reap(self) -> int:
        """Close sessions that are idle, dead, or carry an expired token; return how many."""
        now = time.monotonic()
        stale = [
            (key, session)
            for key, session in self._sessions.items()
            if not session.alive or now - session.last_used > self._idle_s or _token_expired(session.server)
        ]
        for key, session in stale:
            await self._evict(key, session)
        return len(stale)


def _token_expired(server: ComposedMcpServer) -> bool:
    return server.token_expires_at is not None and time.time() >= server.token_expires_at


def _session_key(server: ComposedMcpServer) -> bytes:
    digest = hashlib.sha256(server.url.encode())
    for name, value in sorted(server.headers.items()):
        digest.update(b"\0" + name.lower().encode() + b"\0" + value.encode())
    return digest.digest()
