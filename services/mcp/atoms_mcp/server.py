"""McpServer: builds the Atoms MCP service from its settings, serves it with uvicorn, stops it cleanly.

Construction order (reverse on stop): store (opened and migrated) -> auth client (one
long-lived gRPC channel to the auth service) -> auth service monitor -> FastMCP server with
its auth provider and tools -> Starlette app -> uvicorn.

Probes: `GET /health` (liveness) answers 200 while the store answers; `GET /ready`
(readiness) also needs the auth service, as the `AuthServiceMonitor` sees it (with
hysteresis), and answers 503 with a JSON reason otherwise.

The app speaks streamable HTTP at `settings.path` in stateless mode with JSON responses: any
replica can answer any request, which is what running several replicas behind a load
balancer needs.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from fastmcp import FastMCP
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from atoms_grpc.auth_client import AuthClient, AuthClientPolicy
from atoms_grpc.auth_service_monitor import AuthHealthPolicy, AuthServiceMonitor
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from atoms_grpc.http_face_middleware import HttpFaceMiddleware
from atoms_grpc.loopback import is_loopback_host
from atoms_grpc.readiness import AUTH_SERVICE_UNAVAILABLE, READY, Readiness
from atoms_grpc.service_metrics import MetricsEndpoint
from atoms_grpc.service_runner import run_until_signalled
from atoms_grpc.tracing import add_tracing_middleware
from atoms_mcp.atoms_store import AtomsStore
from atoms_mcp.auth_provider import AtomsAuthProvider
from atoms_mcp.caller import CallerSource
from atoms_mcp.insecure_dev import InsecureDevMarker, warn_insecure_dev
from atoms_mcp.settings import McpSettings, require_authentication
from atoms_mcp.token_verifier import AuthServiceTokenVerifier
from atoms_mcp.tools import AtomsTools

logger = logging.getLogger(__name__)

SERVER_NAME = "Atoms MCP"
INSTRUCTIONS = (
    "Tools for the Atoms requirements workspace of your organization: projects hold documents, "
    "documents hold requirements. Call whoami to see who you are and what you may change."
)
_SHUTDOWN_GRACE_S = 5.0
STORE_UNAVAILABLE = "STORE_UNAVAILABLE"


def build_mcp(
    settings: McpSettings,
    *,
    store: AtomsStore,
    auth_client: AuthClient | None,
    auth_monitor: AuthServiceMonitor | None = None,
) -> FastMCP[Any]:
    """Return the FastMCP server: tools, authentication (or the insecure-dev marker), /health, /ready.

    Args:
        settings: validated settings.
        store: the opened store; the caller owns it.
        auth_client: the auth service client; None only when `settings.runs_unauthenticated`.
        auth_monitor: the auth service's reachability for `/ready`; None leaves it out.

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

    @mcp.custom_route("/ready", methods=["GET"])
    async def ready(request: Request) -> JSONResponse:
        state = await _readiness(store, auth_monitor)
        return JSONResponse(
            state.as_json(), status_code=200 if state.ready else 503, headers={"cache-control": "no-store"}
        )

    return mcp


async def _readiness(store: AtomsStore, auth_monitor: AuthServiceMonitor | None) -> Readiness:
    if auth_monitor is not None and not auth_monitor.reachable:
        return Readiness.not_ready(
            AUTH_SERVICE_UNAVAILABLE,
            f"the auth service at {auth_monitor.target} is {auth_monitor.last_health.value}; "
            "no caller can be authenticated",
        )
    try:
        await store.ping()
    except Exception:
        logger.exception("readiness check failed: the store does not answer")
        return Readiness.not_ready(STORE_UNAVAILABLE, "the store does not answer")
    return READY


def build_http_app(settings: McpSettings, mcp: FastMCP[Any]) -> Starlette:
    """Return the ASGI app: streamable HTTP at `settings.path`, stateless, JSON responses."""
    app = mcp.http_app(
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
    # Outermost, before FastMCP's authentication middleware: its refusals (400, 503) are
    # answered before routing and must be counted and carry the request id too.
    known_paths = (settings.path, "/health", "/ready", *_well_known_paths(settings))
    app.add_middleware(HttpFaceMiddleware, service="mcp", known_paths=known_paths)
    # With tracing on, the request's SERVER span (parent: the agent's `traceparent`) is
    # outermost; the token's validation and FastMCP's own span of the tool call are inside it.
    add_tracing_middleware(app, known_paths=known_paths)
    return app


def _well_known_paths(settings: McpSettings) -> tuple[str, ...]:
    # The OAuth discovery documents a client fetches (RFC 9728, with and without the path suffix).
    return ("/.well-known/oauth-protected-resource", f"/.well-known/oauth-protected-resource{settings.path}")


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
        self._http: EmbeddedHttpServer | None = None
        self._metrics: MetricsEndpoint | None = None
        self.port: int | None = None
        self.metrics_port: int | None = None

    async def start(self, *, sockets: Sequence[socket.socket] | None = None) -> int:
        """Open the store and the auth channel, then listen; return the bound port.

        Args:
            sockets: listening sockets to serve on (tests bind port 0 first, to know the URL);
                by default uvicorn binds `settings.host`:`settings.port`.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the store cannot be opened or migrated.
            RuntimeError: the HTTP server did not start.
        """
        try:
            self._http = EmbeddedHttpServer(
                await self._build(self._resources),
                host=self.settings.host,
                port=self.settings.port,
                sockets=sockets,
                grace_s=_SHUTDOWN_GRACE_S,
                lifespan="on",
                log_level=self.settings.log_level.lower(),
            )
            self.port = await self._http.start()
            if self.settings.metrics_port is not None:
                self._metrics = MetricsEndpoint(host=self.settings.host, port=self.settings.metrics_port)
                self.metrics_port = self._metrics.start()
        except BaseException:
            await self.stop()
            raise
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
        """Return when the HTTP server has stopped, by `stop()` or by itself."""
        if self._http is not None:
            await self._http.wait()

    async def stop(self) -> None:
        """Finish in-flight requests within the grace period, then close the auth channel and store."""
        if self._http is not None:
            # A server that already failed must not keep the auth channel and store open.
            with contextlib.suppress(Exception):
                await self._http.stop()
        self._http = None
        if self._metrics is not None:
            self._metrics.stop()
        self._metrics = None
        await self._resources.aclose()

    async def _build(self, resources: contextlib.AsyncExitStack) -> Starlette:
        settings = self.settings
        store = await AtomsStore.open(settings.database_url.get_secret_value())
        resources.push_async_callback(store.close)
        auth_client: AuthClient | None = None
        auth_monitor: AuthServiceMonitor | None = None
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
                tls=settings.auth_tls(),
                caller_token=settings.auth_caller_token,
            )
            resources.push_async_callback(auth_client.close)
            auth_monitor = AuthServiceMonitor(
                auth_client=auth_client, policy=AuthHealthPolicy(interval_s=settings.auth_health_interval_s)
            )
            await auth_monitor.start()
            resources.push_async_callback(auth_monitor.stop)
        mcp = build_mcp(settings, store=store, auth_client=auth_client, auth_monitor=auth_monitor)
        return build_http_app(settings, mcp)


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
    """Run the MCP service until SIGINT or SIGTERM (or until its HTTP server ends), then stop gracefully."""
    await run_until_signalled(McpServer(settings), name="Atoms MCP service", grace_s=_SHUTDOWN_GRACE_S)
