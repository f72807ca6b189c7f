"""PooledMcpSession: one open MCP client session, owned by its own task, bounded in what it reads.

The MCP client's task groups must be entered and exited in the same task, so each session
has an owner task that opens it, waits, and closes it; any request task may send through it.
Every answer goes through `BoundedResponseTransport`, wrapped around the transport the pool's
`HttpTransportFactory` gives (or the pool's connection pool for that server, borrowed), so the
egress rule and the byte bound both apply to every connection the session makes.

A session belongs to one principal and one server, not to a token: every request carries the
headers of the call it serves (`McpCallScope`), so a refreshed token needs no new session, and
what a request met (its HTTP status, a refused answer) is told to that call alone. Requests no
call made (the handshake, the server's event stream, the closing DELETE) carry the newest
headers a call brought (`present`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import TypeAlias

import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client

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
from atoms_agent.mcp_call_scope import McpCallScope, context_without_call, current_mcp_call
from atoms_agent.mcp_composition import ComposedMcpServer

logger = logging.getLogger(__name__)

HttpTransportFactory: TypeAlias = Callable[[ComposedMcpServer], httpx2.AsyncBaseTransport | None]
"""Gives the transport a session to `server` connects through, or None for httpx2's default.

Called once per session, on the event loop, as the session opens, for every server (check
`server.first_party` to treat configured servers differently). The session owns what it
returns and closes it with its HTTP client; None lets the session borrow the pool's shared
connection pool for that server. It is wrapped in `BoundedResponseTransport`, so
it must hand back answers as they came (no decoding). Raising an `AgentError` refuses the
session: the caller gets that error unchanged. An `AgentError` the transport raises while
connecting (an address the egress rule refuses, say) also reaches the caller unchanged.
"""

_CONNECT_TIMEOUT_S = 5.0
_CLOSE_TIMEOUT_S = 5.0


class PooledMcpSession:
    """One MCP client session: opened by `open`, shared by the calls that lease it."""

    def __init__(
        self,
        server: ComposedMcpServer,
        *,
        request_timeout_s: float,
        max_response_bytes: int,
        transport_factory: HttpTransportFactory | None = None,
        shared_transport: Callable[[ComposedMcpServer], httpx2.AsyncBaseTransport | None] | None = None,
    ) -> None:
        """Args:
        server: the server, as the call that opens the session composed it.
        request_timeout_s: the HTTP read timeout of every request.
        max_response_bytes: the most decoded bytes one answer may have.
        transport_factory: a transport of the session's own (see `HttpTransportFactory`).
        shared_transport: the pool's connection pool for `server` (None when it has none), used
            and never closed when the factory gives None; else a transport of the session's own.
        """
        self.server = server
        self.last_used = time.monotonic()
        self.last_status: int | None = None
        self.client: mcp.Client | None = None
        self.leases = 0
        self.retired = False
        self.refusal: AnswerRefusedError | None = None
        self.token_expires_at = server.token_expires_at
        self._headers: Mapping[str, str] = server.headers
        self._request_timeout_s = request_timeout_s
        self._max_response_bytes = max_response_bytes
        self._transport_factory = transport_factory
        self._shared_transport = shared_transport
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._error: BaseException | None = None
        self._owner: asyncio.Task[None] | None = None

    def present(self, server: ComposedMcpServer) -> None:
        """Remember the newest credentials a call of this principal brought, for requests no call makes."""
        newer = (
            server.token_expires_at is None
            or self.token_expires_at is None
            or server.token_expires_at >= self.token_expires_at
        )
        if newer:
            self._headers = server.headers
            self.token_expires_at = server.token_expires_at

    async def open(self, timeout_s: float) -> None:
        """Start the owner task and wait for the MCP handshake.

        Raises:
            AgentError: the server could not be reached, refused the session, or was refused.
        """
        transport = self._transport()
        # The owner outlives the call that opens the session: it must not report to that call.
        self._owner = asyncio.get_running_loop().create_task(
            self._own(transport), context=context_without_call()
        )
        try:
            async with asyncio.timeout(timeout_s):
                await self._ready.wait()
        except TimeoutError as err:
            await self.close()
            # The same words as every other connection failure, so a slow port looks like a closed one.
            raise McpUnavailableError(f"MCP server {self.server.name} could not be reached") from err
        if self._error is not None or self.client is None:
            await self.close()
            raise self.translate(self._error)

    async def close(self) -> None:
        """Close the session (its owner task ends the HTTP session and exits)."""
        self._closing.set()
        if self._owner is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._owner, timeout=_CLOSE_TIMEOUT_S)

    @property
    def alive(self) -> bool:
        """True while the owner task holds an open session."""
        return self._owner is not None and not self._owner.done() and self.client is not None

    def translate(self, error: BaseException | None, call: McpCallScope | None = None) -> AgentError:
        """Map what went wrong (an answer refused, HTTP status seen, exception) to the agent's error.

        `call` is the call that failed: what its own requests met decides; without it, the
        session's last request (the handshake).
        """
        status = call.status if call is not None else self.last_status
        refusal = call.refusal if call is not None else self.refusal
        name = self.server.name
        if isinstance(refusal, AnswerTooLargeError):
            return McpLimitExceededError(
                f"MCP server {name} sent an answer larger than {refusal.max_bytes} bytes "
                "(mcp_max_response_bytes)",
                limit="mcp_max_response_bytes",
            )
        if refusal is not None:
            return McpProtocolError(f"MCP server {name}: {refusal}")
        # An AgentError raised under the SDK (the egress guard refusing an address) is the answer.
        if (own := _agent_error_in(error) or _agent_error_in(self._error)) is not None:
            return own
        if status == 401:
            return McpUnauthenticatedError(f"MCP server {name} refused the credentials (401)")
        if status == 403:
            return McpForbiddenError(f"MCP server {name} refused the call (403)")
        if status is not None and (status == 429 or status >= 500):
            return McpUnavailableError(f"MCP server {name} is unavailable (HTTP {status})")
        if isinstance(error, (httpx2.TransportError, OSError, TimeoutError)) or _has_transport_error(error):
            return McpUnavailableError(f"MCP server {name} could not be reached")
        return McpProtocolError(f"MCP server {name} answered with an MCP error")

    def _transport(self) -> BoundedResponseTransport:
        inner = self._transport_factory(self.server) if self._transport_factory is not None else None
        if inner is None and self._shared_transport is not None:
            shared = self._shared_transport(self.server)
            inner = _Borrowed(shared) if shared is not None else None
        if inner is None:
            inner = httpx2.AsyncHTTPTransport()
        return BoundedResponseTransport(
            inner,
            max_bytes=self._max_response_bytes,
            on_refused=self._record_refusal,
        )

    async def _own(self, transport: BoundedResponseTransport) -> None:
        timeout = httpx2.Timeout(self._request_timeout_s, connect=_CONNECT_TIMEOUT_S)
        try:
            async with (
                httpx2.AsyncClient(
                    transport=transport,
                    timeout=timeout,
                    follow_redirects=False,
                    trust_env=False,
                    event_hooks={"request": [self._stamp_headers], "response": [self._record_status]},
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

    async def _stamp_headers(self, request: httpx2.Request) -> None:
        call = current_mcp_call()
        request.headers.update(call.headers if call is not None else self._headers)

    async def _record_status(self, response: httpx2.Response) -> None:
        self.last_status = response.status_code
        if (call := current_mcp_call()) is not None:
            call.status = response.status_code

    def _record_refusal(self, refusal: AnswerRefusedError) -> None:
        self.refusal = refusal
        if (call := current_mcp_call()) is not None:
            call.refusal = refusal
        logger.warning("MCP server %s: answer refused: %s", self.server.name, refusal)


class _Borrowed(httpx2.AsyncBaseTransport):
    """A transport the session uses but does not own: closing the session leaves it open."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send through the shared transport."""
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Nothing: the pool closes the shared transport."""


def _agent_error_in(error: BaseException | None) -> AgentError | None:
    if isinstance(error, AgentError):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if (found := _agent_error_in(inner)) is not None:
                return found
    if error is not None and error.__cause__ is not None:
        return _agent_error_in(error.__cause__)
    return None


def _has_transport_error(error: BaseException | None) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return any(_has_transport_error(inner) for inner in error.exceptions)
    return isinstance(error, (httpx2.TransportError, OSError))
