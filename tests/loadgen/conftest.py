"""A small ValidateToken server in the test's event loop that remembers what it was sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_devtools.loadgen.ceiling_server import sample_principal


@dataclass
class RecordingServicer(auth_pb2_grpc.AuthServiceServicer):
    """Answers every token with a fixed principal, except tokens starting with `bad`."""

    tokens: list[str] = field(default_factory=list)
    authorization: list[str] = field(default_factory=list)
    _received: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_for_calls(self, count: int) -> None:
        """Return once `count` calls have arrived in all."""
        async with self._received:
            await self._received.wait_for(lambda: len(self.tokens) >= count)

    async def ValidateToken(
        self, request: auth_pb2.ValidateTokenRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.ValidateTokenResponse:
        self.tokens.append(request.token)
        async with self._received:
            self._received.notify_all()
        self.authorization += [v for k, v in context.invocation_metadata() or () if k == "authorization"]
        if request.token.startswith("bad"):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "refused")
        return auth_pb2.ValidateTokenResponse(principal=sample_principal().to_proto())


@dataclass
class RecordingServer:
    """The running server: its address and what it saw."""

    address: str
    servicer: RecordingServicer


@pytest.fixture
async def recording_server() -> AsyncIterator[RecordingServer]:
    server = grpc.aio.server()
    servicer = RecordingServicer()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield RecordingServer(f"127.0.0.1:{port}", servicer)
    await server.stop(0)
