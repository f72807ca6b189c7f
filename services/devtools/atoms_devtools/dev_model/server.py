"""Running the dev model: in the foreground for `atoms dev model`, on the caller's loop for tests.

The listening sockets are bound before serving, so the announced URL names the port actually
bound, which matters when the port is 0 (pick any free port).
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Sequence

import uvloop

from atoms_devtools.authkit_emulator.emulator_defaults import emulator_base_url
from atoms_devtools.dev_model.app import build_dev_model_app
from atoms_devtools.dev_model.model_card import DEFAULT_HOST, DEFAULT_PORT
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from atoms_grpc.listen_sockets import FACE_HTTP, open_listeners
from atoms_grpc.loopback import is_loopback_host
from atoms_grpc.service_runner import run_until_signalled

logger = logging.getLogger(__name__)

API_PATH = "/v1"
_SHUTDOWN_GRACE_S = 5.0


def dev_model_base_url(*, host: str, port: int) -> str:
    """The `ATOMS_LLM_BASE_URL` that reaches a dev model on `host:port` (a wildcard host as loopback)."""
    return f"{emulator_base_url(host=host, port=port)}{API_PATH}"


def run_dev_model(
    *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve the dev model in the foreground until SIGINT or SIGTERM, then stop gracefully.

    Args:
        host: the address to listen on; anything but loopback is logged as a warning.
        port: the TCP port; 0 picks a free one.
        on_ready: called with the base URL (`http://host:port/v1`) once it serves, when a
            signal already stops it gracefully.

    Raises:
        ListenError: the address cannot be bound (the port is in use, say).
    """
    _warn_unless_loopback(host)
    listeners = open_listeners(host, port, face=FACE_HTTP)
    try:
        base_url = dev_model_base_url(host=host, port=listeners[0].getsockname()[1])
        server = _AnnouncedServer(_http_server(host, listeners), base_url=base_url, on_ready=on_ready)
        uvloop.run(run_until_signalled(server, name="dev model", grace_s=_SHUTDOWN_GRACE_S))
    finally:
        for listener in listeners:
            listener.close()


class _AnnouncedServer:
    """The HTTP server, announced once it serves (after `run_until_signalled` took the signals)."""

    def __init__(
        self, server: EmbeddedHttpServer, *, base_url: str, on_ready: Callable[[str], None] | None
    ) -> None:
        self._server, self._base_url, self._on_ready = server, base_url, on_ready

    async def start(self) -> None:
        await self._server.start()
        if self._on_ready is not None:
            self._on_ready(self._base_url)

    async def wait(self) -> None:
        await self._server.wait()

    async def stop(self) -> None:
        await self._server.stop()


@contextlib.asynccontextmanager
async def running_dev_model(*, host: str = DEFAULT_HOST, port: int = 0) -> AsyncIterator[str]:
    """Run the dev model on the current event loop for the duration of the block.

    Args:
        host: the address to listen on; loopback by default.
        port: the TCP port; 0 (the default) picks a free one.

    Yields:
        The base URL for `ATOMS_LLM_BASE_URL`, e.g. `http://127.0.0.1:54321/v1`.

    Raises:
        ListenError: the address cannot be bound.
        RuntimeError: the server stopped or did not start within 10 seconds.
    """
    listeners = open_listeners(host, port, face=FACE_HTTP)
    try:
        server = _http_server(host, listeners)
        await server.start()
        try:
            yield dev_model_base_url(host=host, port=listeners[0].getsockname()[1])
        finally:
            await server.stop()
    finally:
        for listener in listeners:
            listener.close()


def _http_server(host: str, listeners: Sequence[socket.socket]) -> EmbeddedHttpServer:
    # uvicorn logs at WARNING: its per-start INFO lines would only repeat the announcement.
    return EmbeddedHttpServer(
        build_dev_model_app(),
        host=host,
        sockets=listeners,
        grace_s=_SHUTDOWN_GRACE_S,
        lifespan="off",
        log_level="warning",
    )


def _warn_unless_loopback(host: str) -> None:
    if not is_loopback_host(host.strip("[]")):
        logger.warning(
            "the dev model listens on %s, beyond this machine: anyone who reaches it sees the tool "
            "results the agent feeds it. It is a development stand-in; never configure a production "
            "agent with it.",
            host,
        )
