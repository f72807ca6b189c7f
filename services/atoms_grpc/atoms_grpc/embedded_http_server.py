"""EmbeddedHttpServer: an ASGI app served by uvicorn on the caller's event loop.

For services with an HTTP face next to gRPC, for HTTP-only services run by
`run_until_signalled`, and for tests. It never installs signal handlers: the program that
embeds it owns SIGINT/SIGTERM and decides the shutdown order.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator, Sequence
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from atoms_grpc.listen_sockets import FACE_HTTP, open_listeners

LifespanMode = Literal["auto", "on", "off"]

_STARTUP_TIMEOUT_S = 10.0


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling.

    uvicorn re-raises a captured signal once it has stopped, which would kill the process
    before the embedding program has closed the rest of what it holds, and it would take
    over the signals of a test process that runs servers in-process.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class EmbeddedHttpServer:
    """Start an ASGI app on `host:port` (0 picks a free port) or on given sockets; stop it gracefully."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sockets: Sequence[socket.socket] | None = None,
        grace_s: float = 5.0,
        lifespan: LifespanMode = "auto",
        log_level: str | None = None,
    ) -> None:
        """Args:
        app: the ASGI app.
        host: the address to listen on; with `sockets`, only what `base_url` names.
        port: the TCP port; 0 picks a free one. Ignored with `sockets`.
        sockets: already-listening sockets to serve on instead of binding `host:port` (for
            callers that must know the port before the app is built); the caller closes them.
        grace_s: how long in-flight requests may finish on stop.
        lifespan: uvicorn's lifespan mode ("auto" runs the app's startup, as FastMCP apps need;
            "on" also fails the start when that startup fails).
        log_level: the level of uvicorn's loggers; None leaves them as the program set them.
        """
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,  # uvicorn's records go to the program's logging setup (JSON lines)
            log_level=log_level,
            lifespan=lifespan,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=max(1, int(grace_s)),
        )
        self._server = _QuietServer(config)
        self._sockets = list(sockets) if sockets is not None else None
        self._owned_sockets: list[socket.socket] = []
        self._task: asyncio.Task[None] | None = None
        self.host = host
        self.port: int | None = None

    @property
    def base_url(self) -> str:
        """`http://host:port` of the running server."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> int:
        """Serve in the background and return the bound port.

        Raises:
            ListenError: the address could not be bound (the port is in use, say); the app's
                startup has not run then.
            RuntimeError: the server stopped during startup or did not start in time; nothing
                is left running then.
        """
        sockets = self._sockets
        if sockets is None:
            # Bound here, not by uvicorn: its bind failure logs and calls sys.exit() inside the
            # task, after the app's startup has run; this way it is a ListenError, before it.
            config = self._server.config
            sockets = self._owned_sockets = open_listeners(config.host, config.port, face=FACE_HTTP)
        task = asyncio.get_running_loop().create_task(self._server.serve(sockets=sockets))
        self._task = task
        try:
            await self._until_started(task)
        except BaseException:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await task
            self._task = None
            self._close_owned_sockets()
            raise
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])
        return self.port

    async def wait(self) -> None:
        """Return when the server has stopped, by `stop()` or by itself; raise what it failed with."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (up to the grace period), close."""
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._task = None
            self._close_owned_sockets()

    def _close_owned_sockets(self) -> None:
        for listener in self._owned_sockets:
            listener.close()
        self._owned_sockets = []

    async def _until_started(self, task: asyncio.Task[None]) -> None:
        where = f"{self.host}:{self._server.config.port}" if self._sockets is None else "the given sockets"
        try:
            async with asyncio.timeout(_STARTUP_TIMEOUT_S):
                while not self._server.started:  # uvicorn offers no event to wait on
                    if task.done():
                        break
                    await asyncio.sleep(0.01)
        except TimeoutError as err:
            raise RuntimeError(
                f"HTTP server on {where} did not start within {_STARTUP_TIMEOUT_S:.0f}s"
            ) from err
        if not self._server.started:
            raise RuntimeError(f"HTTP server on {where} stopped during startup") from task.exception()
