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

from services.atoms_grpc.method_reflection import enable_reflection
from services.atoms_grpc.tls_config import TlsConfig

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

    async def start(self, address: str) -> int:
        """Bind `host:port` (port 0 picks a free one), start serving RPCs and return the port.

        Health starts NOT_SERVING; call `set_serving(True)` once the service is ready.

        Raises:
            RuntimeError: the address could not be bound.
        """
        await self.set_serving(False)
        credentials = self._tls.server_credentials() if self._tls is not None else None
        try:
            if credentials is None:
                self.port = self.server.add_insecure_port(address)
            else:
                self.port = self.server.add_secure_port(address, credentials)
        except RuntimeError as err:
            raise RuntimeError(f"cannot listen on {address}: is the port in use?") from err
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
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in (OVERALL_HEALTH, *self.service_names):
            await self.health.set(name, status)

    async def stop(self, grace_s: float) -> None:
        """Go NOT_SERVING, refuse new RPCs, let in-flight RPCs finish for up to `grace_s`."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)
        logger.info("gRPC server stopped")
