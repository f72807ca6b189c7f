"""EmbeddedHttpServer: an ASGI app served by uvicorn on the caller's event loop.

For services with an HTTP face next to gRPC, and for tests. It never installs signal
handlers: the program that embeds it owns SIGTERM and decides the shutdown order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

_STARTUP_TIMEOUT_S = 10.0


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the embedding program handles signals


class EmbeddedHttpServer:
    """Start an ASGI app on `host:port` (0 picks a free port); stop it gracefully."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        grace_s: float = 5.0,
        lifespan: str = "auto",
    ) -> None:
        """Args:
        app: the ASGI app.
        host: the address to listen on.
        port: the TCP port; 0 picks a free one.
        grace_s: how long in-flight requests may finish on stop.
        lifespan: uvicorn's lifespan mode ("auto" runs the app's startup, as FastMCP apps need).
        """
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            lifespan=lifespan,  # type: ignore[arg-type]
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=max(1, int(grace_s)),
        )
        self._server = _QuietServer(config)
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
            RuntimeError: the address could not be bound or the server did not start in time.
        """
        self._task = asyncio.get_running_loop().create_task(self._server.serve())
        try:
            async with asyncio.timeout(_STARTUP_TIMEOUT_S):
                while not self._server.started:
                    if self._task.done():
                        break
                    await asyncio.sleep(0.01)
        except TimeoutError as err:
            raise RuntimeError(f"HTTP server on {self.host} did not start in time") from err
        if not self._server.started:
            with contextlib.suppress(BaseException):
                self._task.result()
            raise RuntimeError(f"cannot listen on {self.host}:{self._server.config.port}")
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (up to the grace period), close."""
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._task = None
