"""The notes service on the kit alone: stand-ins for the auth service and the agent that speak
their real gRPC contracts (`atoms.auth.v1`, `atoms.agent.v1`) on loopback ports.

These are what a team that builds a service on the kit runs in its own repository: nothing
here needs the Atoms services installed, only `atoms-grpc-kit` and `atoms-contracts`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf import struct_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2_grpc
from grpc_status import rpc_status

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from notes_service.server import NotesServer
from notes_service.settings import NotesSettings
from notes_service.stubs import notes_pb2_grpc

# The tokens the stand-in auth service knows: token -> (subject, org_id).
USERS = {
    "token-ada": ("user_ada", "org_acme"),
    "token-hedy": ("user_hedy", "org_globex"),
    "token-solo": ("user_solo", ""),
}


@dataclass
class AuthStandIn(auth_pb2_grpc.AuthServiceServicer):
    """`ValidateToken` for the tokens in USERS; records the audience each call asked for."""

    audiences: list[str] = field(default_factory=list)

    async def ValidateToken(self, request, context):
        self.audiences.append(request.audience)
        token = request.token.removeprefix("Bearer ")
        if token not in USERS:
            info = error_details_pb2.ErrorInfo(reason="INVALID_SIGNATURE", domain="auth.atoms.dev")
            detail = status_pb2.Status(code=code_pb2.UNAUTHENTICATED, message="the token is not valid")
            detail.details.add().Pack(info)
            await context.abort_with_status(rpc_status.to_status(detail))
        subject, org_id = USERS[token]
        principal = auth_pb2.Principal(
            kind=auth_pb2.PRINCIPAL_KIND_USER, subject=subject, org_id=org_id, issuer="https://authkit.test"
        )
        return auth_pb2.ValidateTokenResponse(principal=principal)


@dataclass
class AgentStandIn(agent_pb2_grpc.AgentServiceServicer):
    """`CallTool(atoms, whoami)` answering with the caller the forwarded token names."""

    authorizations: list[str] = field(default_factory=list)

    async def CallTool(self, request, context):
        authorization = dict(context.invocation_metadata()).get("authorization", "")
        self.authorizations.append(authorization)
        subject, org_id = USERS.get(authorization.removeprefix("Bearer "), ("", ""))
        content = struct_pb2.Struct()
        content.update({"subject": subject, "org_id": org_id})
        return agent_pb2.CallToolResponse(structured_content=content)


@dataclass
class NotesOnTheKit:
    """The notes service, its stub, and the two stand-ins it talks to."""

    auth: AuthStandIn
    agent: AgentStandIn
    stub: notes_pb2_grpc.NotesServiceStub

    @staticmethod
    def as_user(token: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {token}"),)


async def _serve(register, servicer) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    register(servicer, server)
    # Health SERVING, as the real services answer: the kit's readiness watches it.
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


@pytest.fixture
async def notes(tmp_path) -> AsyncIterator[NotesOnTheKit]:
    auth, agent = AuthStandIn(), AgentStandIn()
    auth_server, auth_port = await _serve(auth_pb2_grpc.add_AuthServiceServicer_to_server, auth)
    agent_server, agent_port = await _serve(agent_pb2_grpc.add_AgentServiceServicer_to_server, agent)
    service = NotesServer(
        NotesSettings(
            port=0,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}",
            auth_address=f"127.0.0.1:{auth_port}",
            agent_address=f"127.0.0.1:{agent_port}",
        )
    )
    await service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.port}")
    try:
        yield NotesOnTheKit(auth, agent, notes_pb2_grpc.NotesServiceStub(channel))
    finally:
        await channel.close()
        await service.stop()
        await agent_server.stop(None)
        await auth_server.stop(None)
