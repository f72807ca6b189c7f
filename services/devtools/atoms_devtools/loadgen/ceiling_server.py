"""The ceiling: a bare `grpc.aio` server on uvloop that answers ValidateToken with a fixed principal.

No interceptors, no validation, no logging per call: what a Python gRPC service costs on this
machine before it does any work. The answer has the size of a real user principal, so the
bytes on the wire match the auth service's. Reflection is served (ghz can call it), which
costs nothing per call.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import grpc
import uvloop

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_grpc.method_reflection import enable_reflection
from atoms_grpc.principal import Principal, PrincipalKind
from atoms_grpc.service_runner import run_until_signalled

logger = logging.getLogger(__name__)

AUTH_SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name


def sample_principal() -> Principal:
    """A user principal shaped like an AuthKit session token's (the size of a real answer)."""
    return Principal(
        kind=PrincipalKind.USER,
        subject="user_01JBENCHBENCHBENCHBENCHBE",
        issuer="http://127.0.0.1:8100",
        org_id="org_01JBENCHBENCHBENCHBENCHBE",
        session_id="session_01JBENCHBENCHBENCHBENCHBE",
        role="member",
        roles=("member",),
        token_id="01JBENCHBENCHBENCHBENCHBEN",  # noqa: S106 - a jti, not a secret
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


class FixedAnswerServicer(auth_pb2_grpc.AuthServiceServicer):
    """Returns the same ValidateTokenResponse to every call."""

    def __init__(self) -> None:
        self._response = auth_pb2.ValidateTokenResponse(principal=sample_principal().to_proto())

    async def ValidateToken(
        self, request: auth_pb2.ValidateTokenRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.ValidateTokenResponse:
        """Answer without looking at the request."""
        return self._response


class BareGrpcServer:
    """A grpc.aio server with one servicer and reflection; nothing else."""

    def __init__(self, servicer: auth_pb2_grpc.AuthServiceServicer, *, host: str, port: int) -> None:
        self._servicer = servicer
        self._address = f"{host}:{port}"
        self._server: grpc.aio.Server | None = None
        self.port: int | None = None

    async def start(self) -> int:
        """Build the server on the running loop, bind, start, print the ready line; return the port."""
        self._server = server = grpc.aio.server()
        auth_pb2_grpc.add_AuthServiceServicer_to_server(self._servicer, server)
        enable_reflection((AUTH_SERVICE_NAME,), server)
        self.port = server.add_insecure_port(self._address)
        await server.start()
        # One JSON line the bench (and a person) can read: the same shape the services log.
        print(json.dumps({"message": "listening", "grpc_port": self.port}), flush=True)
        return self.port

    async def stop(self) -> None:
        """Stop at once: the bench has finished with it."""
        if self._server is not None:
            await self._server.stop(1.0)


def serve_ceiling(*, host: str, port: int) -> None:
    """Run the ceiling server until SIGINT or SIGTERM."""
    server = BareGrpcServer(FixedAnswerServicer(), host=host, port=port)
    uvloop.run(run_until_signalled(server, name="ceiling server", grace_s=1.0))
