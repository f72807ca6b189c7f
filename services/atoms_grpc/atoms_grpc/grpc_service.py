"""GrpcService: the standard way to build, run and stop one authenticated Atoms gRPC service.

A service subclasses `GrpcService` and implements `build()`: open what its servicers need,
register how to close each thing on the exit stack it is given, and return the servicers
bound to their generated `add_*Servicer_to_server` functions. The base class does the rest,
the same way for every service:

- an `AuthClient` for the auth service and the interceptor chain of `standard_interceptors()`,
  which asks the auth service about every caller's token with the service's own `audience`
  (required: a token issued for another resource or OAuth client is refused);
- `grpc.health.v1` health (NOT_SERVING until started and again during shutdown) and server
  reflection that resolves method symbols too, so grpcurl and stock ghz need no proto files.
  Liveness is the overall name "": SERVING while the process runs. Readiness is each service's
  own name (e.g. `notes.v1.NotesService`): NOT_SERVING too while an `AuthServiceMonitor`
  finds the auth service unreachable, so a readiness probe takes the replica out of rotation
  without a liveness probe restarting it. `readiness()` gives the same verdict to an HTTP face;
- the Prometheus `/metrics` endpoint when a metrics port is configured;
- on stop: NOT_SERVING, in-flight RPCs drain for the grace period, then everything `build()`
  opened closes in reverse order. A start that fails closes what was already built.

`run_grpc_service()` is a service's whole `__main__`: JSON log lines, uvloop, SIGINT/SIGTERM.
"""

from __future__ import annotations

import abc
import contextlib
import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
import uvloop

from atoms_grpc.access_log_interceptor import AccessLogInterceptor
from atoms_grpc.auth_client import AuthClient, AuthClientPolicy
from atoms_grpc.auth_interceptor import BearerAuthInterceptor
from atoms_grpc.auth_service_monitor import AuthHealthPolicy, AuthServiceMonitor
from atoms_grpc.grpc_service_host import DEFAULT_MAX_MESSAGE_BYTES, GrpcServiceHost
from atoms_grpc.log_format import configure_logging
from atoms_grpc.readiness import (
    AUTH_SERVICE_UNAVAILABLE,
    READY,
    SHUTTING_DOWN,
    STARTING,
    Readiness,
)
from atoms_grpc.request_id_interceptor import RequestIdInterceptor
from atoms_grpc.service_metrics import MetricsEndpoint
from atoms_grpc.service_runner import run_until_signalled
from atoms_grpc.status_mapping import StatusMappingInterceptor
from atoms_grpc.tls_config import TlsConfig
from atoms_grpc.tracing import server_interceptors
from atoms_grpc.tracing_setup import process_tracing

if TYPE_CHECKING:
    from google.protobuf.descriptor import ServiceDescriptor
    from pydantic import SecretStr

logger = logging.getLogger(__name__)

DEFAULT_AUTH_ADDRESS = "127.0.0.1:50051"


@dataclass(frozen=True, slots=True)
class ServicerBinding:
    """A servicer and the generated function that adds it to a server.

    `ServicerBinding(notes_pb2.DESCRIPTOR.services_by_name["NotesService"],
    notes_pb2_grpc.add_NotesServiceServicer_to_server, servicer)`
    """

    service: ServiceDescriptor
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    servicer: object

    @property
    def service_name(self) -> str:
        """The full name health and reflection report, e.g. `notes.v1.NotesService`."""
        return str(self.service.full_name)

    def register(self, server: grpc.aio.Server) -> None:
        """Add the servicer to `server`."""
        self.add_to_server(self.servicer, server)


def standard_interceptors(
    auth_client: AuthClient | None, *, audience: str, required_scopes: Sequence[str] = ()
) -> tuple[grpc.aio.ServerInterceptor, ...]:
    """Return the kit's server interceptor chain, outermost first.

    Args:
        auth_client: the client of the auth service. None leaves every RPC unauthenticated:
            only for the auth service itself, which has no one to ask.
        audience: this service's own resource identifier, checked by the auth service.
        required_scopes: scopes every RPC of this service requires.

    Raises:
        ValueError: `audience` is empty although callers are authenticated.
    """
    chain: list[grpc.aio.ServerInterceptor] = [
        # With tracing on (OTEL_*), the RPC's SERVER span opens first: log lines carry its ids.
        *server_interceptors(),
        RequestIdInterceptor(),  # every later log line and error carries the id
        AccessLogInterceptor(),  # sees the final status, authentication refusals included
        StatusMappingInterceptor(),  # the only place exceptions become statuses
    ]
    if auth_client is not None:
        # Innermost: a handler only runs with a principal, and refusals are mapped and logged.
        chain.append(BearerAuthInterceptor(auth_client, audience=audience, required_scopes=required_scopes))
    return tuple(chain)


def build_service_host(
    bindings: Sequence[ServicerBinding],
    *,
    auth_client: AuthClient,
    audience: str,
    required_scopes: Sequence[str] = (),
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    tls: TlsConfig | None = None,
) -> GrpcServiceHost:
    """Return a not yet started host serving `bindings` behind the standard, authenticated chain.

    Raises:
        ValueError: `audience` is empty.
    """
    return GrpcServiceHost(
        service_names=[binding.service_name for binding in bindings],
        registrations=[binding.register for binding in bindings],
        interceptors=standard_interceptors(auth_client, audience=audience, required_scopes=required_scopes),
        max_message_bytes=max_message_bytes,
        tls=tls,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GrpcServiceConfig:
    """Where a service listens, whom it asks about tokens, and how long it drains on stop.

    Attributes:
        name: the service's short name, e.g. "notes"; labels log lines ("notes service started").
        audience: the audience this service accepts (its resource identifier, e.g.
            "urn:atoms:notes"), required. Every caller's token is validated with it: a token whose
            `aud` names another resource or OAuth client is refused (INVALID_AUDIENCE); a
            first-party session token without `aud` (AuthKit's) and internal tokens pass.
        host, port: where gRPC listens; port 0 picks a free one.
        auth_address: `host:port` of the auth service (ATOMS_AUTH_ADDR).
        auth_policy: timeouts, retries and cache bounds of the auth client.
        auth_health: how often the auth service's health is checked for readiness.
        auth_caller_token: this service's internal token, for an auth service that restricts its callers.
        required_scopes: scopes every RPC requires.
        metrics_host, metrics_port: the Prometheus `/metrics` endpoint; None turns it off.
        shutdown_grace_s: how long in-flight RPCs may finish after SIGTERM.
        max_message_bytes: the largest request or response message.
        tls: serve TLS (and reach the auth service over TLS); plaintext when None.

    Raises:
        ValueError: a value is out of range (checked on construction).
    """

    name: str
    audience: str
    host: str = "127.0.0.1"
    port: int = 0
    auth_address: str = DEFAULT_AUTH_ADDRESS
    auth_policy: AuthClientPolicy = field(default_factory=AuthClientPolicy)
    auth_health: AuthHealthPolicy = field(default_factory=AuthHealthPolicy)
    auth_caller_token: SecretStr | None = field(default=None, repr=False)
    required_scopes: tuple[str, ...] = ()
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    shutdown_grace_s: float = 10.0
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    tls: TlsConfig | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name the service: it labels every log line")
        check_audience(self.audience)
        for label, port in (("port", self.port), ("metrics_port", self.metrics_port)):
            if port is not None and not 0 <= port <= 65535:
                raise ValueError(f"{label} must be within 0..65535 (0 picks a free port), got {port}")
        if not self.auth_address:
            raise ValueError("auth_address is required: a GrpcService always authenticates its callers")
        if self.shutdown_grace_s < 0:
            raise ValueError("shutdown_grace_s must not be negative")


def check_audience(audience: str) -> None:
    """Refuse an audience that would let tokens for any resource in.

    Raises:
        ValueError: `audience` is empty, blank, or has surrounding or inner whitespace.
    """
    if not audience or audience != audience.strip() or any(c.isspace() for c in audience):
        raise ValueError(
            "audience is required: the identifier this service accepts tokens for, such as "
            f"urn:atoms:notes or https://notes.example.com (no spaces), got {audience!r}"
        )


class _Lifecycle(enum.Enum):
    UNSTARTED = "unstarted"
    STARTED = "started"
    STOPPED = "stopped"


class GrpcService(abc.ABC):
    """One authenticated gRPC service, assembled the standard way; see the module docstring.

    After `start()`, `port` is the bound gRPC port and `metrics_port` the `/metrics` port
    (None when off). It satisfies `RunnableService`, so `run_until_signalled` can run it.
    """

    def __init__(self, config: GrpcServiceConfig, *, auth_client: AuthClient | None = None) -> None:
        """Keep the configuration; nothing is opened before `start()`.

        Args:
            config: where to listen and whom to ask about tokens.
            auth_client: an existing client of the auth service; the caller then owns it.
                By default one is opened on `config.auth_address` and closed by `stop()`.
        """
        self.config = config
        self.host: GrpcServiceHost | None = None
        self.port: int | None = None
        self.metrics_port: int | None = None
        self.auth_monitor: AuthServiceMonitor | None = None
        self._given_auth_client = auth_client
        self._resources = contextlib.AsyncExitStack()
        self._lifecycle = _Lifecycle.UNSTARTED
        self._serving = False

    @abc.abstractmethod
    async def build(
        self, resources: contextlib.AsyncExitStack, auth_client: AuthClient
    ) -> Sequence[ServicerBinding]:
        """Open what the servicers need and return them bound; called once, by `start()`.

        Args:
            resources: push the closing of everything opened here (`push_async_callback`);
                it runs in reverse order after the gRPC server has drained.
            auth_client: the auth service client the interceptor uses, for a second face.
        """

    async def started(self, resources: contextlib.AsyncExitStack) -> None:
        """Start what must follow the bound gRPC port (an HTTP face, say); health is still NOT_SERVING.

        Does nothing by default. Register how to stop what it starts on `resources`.
        """
        return None

    def announce(self) -> None:
        """Log that the service is up and SERVING; override to add what operators need to know."""
        logger.info(
            "%s service started",
            self.config.name,
            extra={"grpc_port": self.port, "metrics_port": self.metrics_port},
        )

    def readiness(self) -> Readiness:
        """Whether the service should take new requests now (what its per-service health reports).

        Not ready while starting, while stopping, and while the auth service is unreachable.
        """
        if self._lifecycle is _Lifecycle.STOPPED:
            return Readiness.not_ready(SHUTTING_DOWN, f"the {self.config.name} service is stopping")
        if not self._serving:
            return Readiness.not_ready(STARTING, f"the {self.config.name} service is starting")
        monitor = self.auth_monitor
        if monitor is not None and not monitor.reachable:
            return Readiness.not_ready(
                AUTH_SERVICE_UNAVAILABLE,
                f"the auth service at {monitor.target} is {monitor.last_health.value}; "
                "no caller can be authenticated",
            )
        return READY

    async def start(self) -> int:
        """Build, listen, start metrics, report SERVING; return the gRPC port.

        Raises:
            RuntimeError: the service was started before.
            ListenError: a port (gRPC, metrics, an HTTP face) could not be bound; `advice()` says what to do.
            Exception: whatever `build()` or `started()` raised; what was built is closed first.
        """
        if self._lifecycle is not _Lifecycle.UNSTARTED:
            raise RuntimeError(f"the {self.config.name} service can be started only once")
        self._lifecycle = _Lifecycle.STARTED
        try:
            port = await self._start_parts()
        except BaseException:
            await self.stop()
            raise
        self.announce()
        return port

    async def stop(self) -> None:
        """NOT_SERVING, drain in-flight RPCs for the grace period, then close in reverse order.

        Calling it again does nothing.
        """
        if self._lifecycle is _Lifecycle.STOPPED:
            return
        self._lifecycle = _Lifecycle.STOPPED
        self._serving = False
        try:
            if self.host is not None:
                await self.host.stop(self.config.shutdown_grace_s)
        finally:
            await self._resources.aclose()

    async def _start_parts(self) -> int:
        config, resources = self.config, self._resources
        auth_client = self._given_auth_client
        if auth_client is None:
            auth_client = AuthClient(
                target=config.auth_address,
                policy=config.auth_policy,
                tls=config.tls,
                caller_token=config.auth_caller_token,
            )
            resources.push_async_callback(auth_client.close)
        monitor = self.auth_monitor = AuthServiceMonitor(
            auth_client=auth_client, policy=config.auth_health, on_change=self._auth_reachability_changed
        )
        resources.push_async_callback(monitor.stop)
        bindings = await self.build(resources, auth_client)
        self.host = build_service_host(
            bindings,
            auth_client=auth_client,
            audience=config.audience,
            required_scopes=config.required_scopes,
            max_message_bytes=config.max_message_bytes,
            tls=config.tls,
        )
        port = self.port = await self.host.start(f"{config.host}:{config.port}")
        if config.metrics_port is not None:
            metrics = MetricsEndpoint(host=config.metrics_host, port=config.metrics_port)
            self.metrics_port = metrics.start()
            resources.callback(metrics.stop)
        await self.started(resources)
        await monitor.start()
        self._serving = True
        await self._publish_health()
        return port

    async def _auth_reachability_changed(self, reachable: bool) -> None:
        await self._publish_health()

    async def _publish_health(self) -> None:
        if self.host is not None and self._lifecycle is _Lifecycle.STARTED:
            await self.host.set_health(live=self._serving, ready=self.readiness().ready)


async def serve_grpc_service(service: GrpcService) -> None:
    """Run `service` until SIGINT or SIGTERM, then stop it gracefully (on the running loop)."""
    config = service.config
    await run_until_signalled(service, name=f"{config.name} service", grace_s=config.shutdown_grace_s)


def run_grpc_service(service: GrpcService, *, log_level: str = "INFO") -> int:
    """Be a service's whole `__main__`: JSON log lines, tracing, uvloop, run until SIGINT/SIGTERM.

    Args:
        service: the service, constructed but not started.
        log_level: DEBUG, INFO, WARNING or ERROR.

    Returns:
        0 once the service has stopped gracefully.

    Raises:
        SettingsError: the OTEL_* variables ask for an exporter this build does not ship.
        Exception: what `start()` raised (a port in use, an unreachable database).
    """
    configure_logging(service=service.config.name, level=log_level)
    # Tracing as the OTEL_* variables say (off by default); `service.name` is the service's name.
    with process_tracing(service.config.name):
        uvloop.run(serve_grpc_service(service))
    return 0
