"""GrpcServiceHost: a `grpc.aio` server with the parts every Atoms service needs.

Health (`grpc.health.v1`), server reflection (grpcurl and ghz use it), the interceptor
chain, bounded message sizes, and a graceful stop: health goes NOT_SERVING first, new
RPCs are refused, in-flight RPCs get the grace period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from atoms_grpc.listen_sockets import FACE_GRPC, ListenError, ensure_port_free, split_address
from atoms_grpc.method_reflection import enable_reflection
from atoms_grpc.tls_config import TlsConfig

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
OVERALL_HEALTH = ""

ServicerRegistration = Callable[[grpc.aio.Server], None]


class GrpcServiceHost:
    """Owns one `grpc.aio.Server`: build it, start it, flip health, stop it gracefully."""

    def __init__(
        self,
        *,
        service_names: Sequence[str],
        registrations: Sequence[ServicerRegistration],
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        reuse_port: bool = False,
        tls: TlsConfig | None = None,
    ) -> None:
        """Build the server (not yet bound).

        Args:
            service_names: full names of the application services, for health and reflection.
            registrations: callables that add the servicers, e.g. `lambda s: add_XServicer_to_server(x, s)`.
            interceptors: outermost first.
            max_message_bytes: the largest request or response message accepted.
            reuse_port: allow several processes on one port (SO_REUSEPORT); off by default so that
                a second server on a busy port fails instead of silently sharing it.
            tls: serve TLS (mutual TLS when it requires client certificates); plaintext when None
                or not enabled.
        """
        self.service_names = tuple(service_names)
        self.server = grpc.aio.server(
            interceptors=tuple(interceptors),
            options=(
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
                ("grpc.so_reuseport", 1 if reuse_port else 0),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
            ),
        )
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        for register in registrations:
            register(self.server)
        enable_reflection((*self.service_names, health.SERVICE_NAME), self.server)
        self.port: int | None = None
        self._tls = tls
        self._reuse_port = reuse_port

    async def start(self, address: str) -> int:
        """Bind `host:port` (port 0 picks a free one), start serving RPCs and return the port.

        Health starts NOT_SERVING; call `set_serving(True)` once the service is ready.

        Raises:
            ListenError: the address could not be bound (a RuntimeError; `in_use` says whether
                another process holds the port).
        """
        await self.set_serving(False)
        credentials = self._tls.server_credentials() if self._tls is not None else None
        host, port = split_address(address) or (address, 0)
        if not self._reuse_port:
            # grpc only says "Failed to bind" (and logs its reason from C): probe first, to say why.
            ensure_port_free(host, port, face=FACE_GRPC)
        try:
            if credentials is None:
                self.port = self.server.add_insecure_port(address)
            else:
                self.port = self.server.add_secure_port(address, credentials)
        except RuntimeError as err:
            problem = "grpc could not bind it (GRPC_VERBOSITY=debug says why)"
            raise ListenError(face=FACE_GRPC, host=host, port=port, problem=problem) from err
        await self.server.start()
        logger.info(
            "gRPC server listening on %s (port %d, %s)",
            address,
            self.port,
            "plaintext"
            if credentials is None
            else ("mutual TLS" if self._tls and self._tls.require_client_cert else "TLS"),
        )
        return self.port

    async def set_serving(self, serving: bool) -> None:
        """Report SERVING or NOT_SERVING for the whole server and each service."""
        await self.set_health(live=serving, ready=serving)

    async def set_health(self, *, live: bool, ready: bool) -> None:
        """Report liveness on the overall name "" and readiness on each service's own name.

        A service that is up but cannot serve (its auth service unreachable, say) reports
        `live=True, ready=False`: a liveness probe on "" does not restart it, while a readiness
        probe on its service name takes it out of rotation.
        """
        for name in self.service_names:
            await self.health.set(name, _status(live and ready))
        await self.health.set(OVERALL_HEALTH, _status(live))

    async def stop(self, grace_s: float) -> None:
        """Go NOT_SERVING, refuse new RPCs, let in-flight RPCs finish for up to `grace_s`."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)
        logger.info("gRPC server stopped")


def _status(serving: bool) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    return health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
