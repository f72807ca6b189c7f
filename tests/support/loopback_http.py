"""Run an ASGI app with uvicorn inside the test's event loop, on a free loopback port."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.types import ASGIApp

from atoms_grpc.embedded_http_server import EmbeddedHttpServer


@contextlib.asynccontextmanager
async def serving_asgi(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yield its base URL (`http://127.0.0.1:<port>`)."""
    server = EmbeddedHttpServer(app, host=host, port=port, lifespan="off", log_level="warning")
    await server.start()
    try:
        yield server.base_url
    finally:
        await server.stop()
