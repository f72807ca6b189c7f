"""McpServer: builds the Atoms MCP service from its settings, serves it with uvicorn, stops it cleanly.

Construction order (reverse on stop): store (opened and migrated) -> auth client (one
long-lived gRPC channel to the auth service) -> FastMCP server with its auth provider and
tools -> Starlette app -> uvicorn. The app speaks streamable HTTP at `settings.path` in
stateless mode with JSON responses: any replica can answer any request, which is what
running several replicas behind a load balancer needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from fastmcp import FastMCP
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from services.atoms_grpc.auth_client import AuthClient, AuthClientPolicy
from services.mcp.atoms_store import AtomsStore
from services.mcp.auth_provider import AtomsAuthProvider
from services.mcp.caller import CallerSource
from services.mcp.insecure_dev import InsecureDevMarker, warn_insecure_dev
from services.mcp.settings import McpSettings, is_loopback_host, require_authentication
from services.mcp.token_verifier import AuthServiceTokenVerifier
from services.mcp.tools import AtomsTools

logger = logging.getLogger(__name__)

SERVER_NAME = "Atoms MCP"
INSTRUCTIONS = (
    "Tools for the Atoms requirements workspace of your organization: projects hold documents, "
    "documents hold requirements. Call whoami to see who you are and what you may change."
)
_STARTUP_TIMEOUT_S = 10.0
_SHUTDOWN_GRACE_S = 5


def build_mcp(settings: McpSettings, *, store: AtomsStore, auth_client: AuthClient | None) -> FastMCP[Any]:
    """Return the FastMCP server: tools, authentication (or the insecure-dev marker), /health.

    Args:
        settings: validated settings.
        store: the opened store; the caller owns it.
        auth_client: the auth service client; None only when `settings.runs_unauthenticated`.

    Raises:
        ValueError: `auth_client` is None although authentication is configured.
    """
    insecure = settings.runs_unauthenticated
    if auth_client is None and not insecure:
        raise ValueError("an auth client is required unless the server runs unauthenticated")
    mcp: FastMCP[Any] = FastMCP(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        auth=None if auth_client is None else _auth_provider(settings, auth_client),
        middleware=[InsecureDevMarker()] if insecure else None,
        mask_error_details=True,
    )
    AtomsTools(store=store, callers=CallerSource(insecure_dev=insecure)).register(mcp)

    @mcp.custom_route("/health", methods=["GET"])
    async def health(request: Request) -> JSONResponse:
        try:
            await store.ping()
        except Exception:
            logger.exception("health check failed: the store does not answer")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return mcp


def build_http_app(settings: McpSettings, mcp: FastMCP[Any]) -> Starlette:
    """Return the ASGI app: streamable HTTP at `settings.path`, stateless, JSON responses."""
    return mcp.http_app(
        path=settings.path,
        transport="http",
        stateless_http=True,
        json_response=True,
        # DNS-rebinding guard when bound to loopback (the dev case, where a browser page could
        # reach the server through a hostile name); the public host stays allowed, for a
        # proxy on the same host that forwards to loopback.
        host_origin_protection="auto",
        allowed_hosts=_public_host_when_on_loopback(settings),
    )


def _public_host_when_on_loopback(settings: McpSettings) -> list[str] | None:
    # Only on loopback: naming hosts makes FastMCP check Host on every bind, which would refuse
    # a load balancer or probe that uses another name for a server bound to all interfaces.
    public_host = urlsplit(settings.base_url).hostname if settings.base_url else None
    if public_host is None or not is_loopback_host(settings.host):
        return None
    return [public_host]


def _auth_provider(settings: McpSettings, auth_client: AuthClient) -> AtomsAuthProvider:
    if settings.base_url is None or settings.authkit_domain is None or settings.resource_url is None:
        raise ValueError("base_url and authkit_domain are required for authentication")
    verifier = AuthServiceTokenVerifier(
        auth_client=auth_client,
        audience=settings.resource_url,
        timeout_s=settings.auth_timeout_s,
        retry_after_s=settings.retry_after_s,
        required_scopes=settings.required_scopes,
    )
    return AtomsAuthProvider(
        token_verifier=verifier, authkit_domain=settings.authkit_domain, base_url=settings.base_url
    )


class McpServer:
    """One running Atoms MCP service: its store, auth client and HTTP server."""

    def __init__(self, settings: McpSettings) -> None:
        """Check the settings; nothing is opened until `start()`.

        Raises:
            SettingsError: authentication is not configured and `insecure_dev` is not set.
        """
        require_authentication(settings)
        self.settings = settings
        self._resources = contextlib.AsyncExitStack()
        self._uvicorn: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self.port: int | None = None

    async def start(self, *, sockets: list[socket.socket] | None = None) -> int:
        """Open the store and the auth channel, then listen; return the bound port.

        Args:
            sockets: listening sockets to serve on (tests bind port 0 first, to know the URL);
                by default uvicorn binds `settings.host`:`settings.port`.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the store cannot be opened or migrated.
            RuntimeError: the HTTP server did not start.
        """
        try:
            app = await self._build(self._resources)
            self._uvicorn = _uvicorn_server(app, self.settings)
            self._serving = asyncio.get_running_loop().create_task(self._uvicorn.serve(sockets=sockets))
            await _wait_until_started(self._uvicorn, self._serving)
        except BaseException:
            await self.stop()
            raise
        self.port = self._uvicorn.servers[0].sockets[0].getsockname()[1]
        logger.info(
            "Atoms MCP service listening on %s:%d%s (auth service %s, %s)",
            self.settings.host,
            self.port,
            self.settings.path,
            self.settings.auth_addr,
            "UNAUTHENTICATED"
            if self.settings.runs_unauthenticated
            else f"resource {self.settings.resource_url}",
        )
        return self.port

    async def wait(self) -> None:
        """Return when the HTTP server has stopped (SIGINT/SIGTERM, or `stop()`)."""
        if self._serving is not None:
            await asyncio.shield(self._serving)

    async def stop(self) -> None:
        """Finish in-flight requests within the grace period, then close the auth channel and store."""
        if self._uvicorn is not None and self._serving is not None:
            self._uvicorn.should_exit = True
            with contextlib.suppress(Exception):
                await self._serving
        self._uvicorn, self._serving = None, None
        await self._resources.aclose()

    async def _build(self, resources: contextlib.AsyncExitStack) -> Starlette:
        settings = self.settings
        store = await AtomsStore.open(settings.database_url.get_secret_value())
        resources.push_async_callback(store.close)
        auth_client: AuthClient | None = None
        if settings.runs_unauthenticated:
            warn_insecure_dev(settings.missing_auth_settings)
        else:
            if settings.insecure_dev:
                logger.info("--insecure-dev has no effect: authentication is configured")
            auth_client = AuthClient(
                target=settings.auth_addr,
                policy=AuthClientPolicy(
                    default_timeout_s=settings.auth_timeout_s, cache_ttl_s=settings.auth_cache_ttl_s
                ),
            )
            resources.push_async_callback(auth_client.close)
        return build_http_app(settings, build_mcp(settings, store=store, auth_client=auth_client))


def route_fastmcp_logs() -> None:
    """Send FastMCP's log records to the root handlers (JSON lines) instead of its own console.

    FastMCP gives its `fastmcp` logger a rich console handler and stops propagation at
    import; an entry point calls this after `configure_logging()`.
    """
    fastmcp_logger = logging.getLogger("fastmcp")
    for handler in list(fastmcp_logger.handlers):
        fastmcp_logger.removeHandler(handler)
    fastmcp_logger.propagate = True
    fastmcp_logger.setLevel(logging.NOTSET)


async def serve(settings: McpSettings) -> None:
    """Run the MCP service until SIGINT or SIGTERM, then stop gracefully."""
    server = McpServer(settings)
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_requested.set)
    await server.start()
    try:
        stopping = loop.create_task(stop_requested.wait())
        serving = loop.create_task(server.wait())
        await asyncio.wait({stopping, serving}, return_when=asyncio.FIRST_COMPLETED)
        for task in (stopping, serving):
            task.cancel()
        logger.info("shutdown requested; draining requests for up to %ds", _SHUTDOWN_GRACE_S)
    finally:
        await server.stop()


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: `serve()` owns SIGINT/SIGTERM.

    uvicorn re-raises a captured signal once it has stopped, which would kill the process
    before the store and the auth channel are closed, and would take over the signals of a
    test process that runs the server in-process.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _uvicorn_server(app: Starlette, settings: McpSettings) -> uvicorn.Server:
    # log_config=None: uvicorn's records go to the program's logging setup (JSON lines).
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_S,
    )
    return _Uvicorn(config)


async def _wait_until_started(server: uvicorn.Server, serving: asyncio.Task[None]) -> None:
    try:
        async with asyncio.timeout(_STARTUP_TIMEOUT_S):
            while not server.started:
                if serving.done():
                    serving.result()
                    raise RuntimeError("the MCP server stopped during startup")
                await asyncio.sleep(0.01)
    except TimeoutError as err:
        raise RuntimeError(f"the MCP server did not start within {_STARTUP_TIMEOUT_S:.0f}s") from err
