"""Agent test fixtures: the emulator, the auth service, recording MCP servers of the tests' own, the agent."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastmcp import FastMCP

from atoms.agent.v1 import agent_pb2_grpc
from atoms_agent.egress_guard import HostResolver
from atoms_agent.server import AgentServer
from atoms_agent.settings import AgentSettings, ModelEndpoint
from atoms_agent.url_origin import origin_of
from atoms_auth.server import AuthServer
from atoms_auth.settings import load_auth_settings
from atoms_devtools.authkit_emulator import EmulatorKeyStore, mint_token, running_emulator
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from atoms_grpc.first_party_mcps import FirstPartyMcp
from tests.support.hostile_mcp import Answer, HostileAnswers
from tests.support.recording_mcp import RecordingMcp, RecordingMiddleware
from tests.support.token_factory import remember


def _recording_server(name: str) -> FastMCP:
    server = FastMCP(name)

    @server.tool
    def echo(text: str) -> str:
        """Return the text."""
        return f"{name} says {text}"

    @server.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return server


@pytest.fixture
async def recording_mcp_factory() -> AsyncIterator[Callable[..., Any]]:
    """Start recording MCP servers on loopback; stop them after the test."""
    running: list[EmbeddedHttpServer] = []

    async def start(
        name: str,
        *,
        required_bearer: str | None = None,
        server_app: FastMCP | None = None,
        stateless: bool = True,
        legacy_only: bool = False,
        answers: Mapping[str, Answer] | None = None,
    ) -> RecordingMcp:
        """`server_app` replaces the echo/add server; `stateless=False` with `legacy_only` gives
        clients a stateful MCP session; `answers` are hostile answers (tests/support/hostile_mcp.py)."""
        recording = RecordingMcp(url="", required_bearer=required_bearer, legacy_only=legacy_only)
        mcp_server = server_app if server_app is not None else _recording_server(name)
        app = mcp_server.http_app(path="/mcp", stateless_http=stateless, json_response=True)
        inner = HostileAnswers(app, answers) if answers else app
        server = EmbeddedHttpServer(RecordingMiddleware(inner, recording))
        await server.start()
        running.append(server)
        recording.url = f"{server.base_url}/mcp"
        return recording

    yield start
    for server in reversed(running):
        await server.stop()


@dataclass
class AgentStack:
    """The emulator, the auth service and the agent, with a token minter."""

    agent: AgentServer
    channel: grpc.aio.Channel
    stub: agent_pb2_grpc.AgentServiceStub
    issuer: str
    key_store: EmulatorKeyStore
    first_party: RecordingMcp
    internal_token: str
    auth: AuthServer | None = None  # the running auth service (tests stop and restart it)

    def token(self, subject: str = "user_a", org_id: str = "org_a", **claims: Any) -> str:
        return remember(
            mint_token(self.key_store, issuer=self.issuer, subject=subject, org_id=org_id, **claims)
        )

    def metadata(self, token: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {token}"),)


@pytest.fixture
async def agent_stack_factory(tmp_path: Path, recording_mcp_factory) -> AsyncIterator[Callable[..., Any]]:
    """Build emulator + auth + agent (with a recording first-party `atoms` server); stop all after."""
    stack = contextlib.AsyncExitStack()

    async def build(
        *,
        model: ModelEndpoint | None = None,
        resolver: HostResolver | None = None,
        first_party_stateless: bool = False,
        **agent_overrides: Any,
    ) -> AgentStack:
        store = EmulatorKeyStore(path=tmp_path / "keys.json")
        issuer = await stack.enter_async_context(running_emulator(store))
        internal = remember(secrets.token_urlsafe(36))
        auth_settings = load_auth_settings(
            {
                "WORKOS_CLIENT_ID": "client_test",
                "WORKOS_API_BASE_URL": f"{issuer}/",
                "ATOMS_INTERNAL_TOKEN": internal,
            }
        )
        auth = AuthServer(dataclasses.replace(auth_settings, port=0, metrics_port=None))
        auth_port = await auth.start()
        stack.push_async_callback(auth.stop)
        first_party = await recording_mcp_factory("atoms")
        settings = AgentSettings(
            port=0,
            http_port=0,
            auth_address=f"127.0.0.1:{auth_port}",
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'agent.db'}",
            first_party_mcps=(
                FirstPartyMcp(
                    key="atoms",
                    display_name="Atoms MCP",
                    url=first_party.url,
                    requires_user_token=True,
                    stateless=first_party_stateless,
                ),
            ),
            model=model,
            **{
                "first_party_origins": frozenset({origin_of(first_party.url)}),
                "allow_loopback_mcp": True,
                **agent_overrides,
            },
        )
        agent = AgentServer(settings) if resolver is None else AgentServer(settings, resolver=resolver)
        port = await agent.start()
        stack.push_async_callback(agent.stop)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        stack.push_async_callback(channel.close)
        return AgentStack(
            agent,
            channel,
            agent_pb2_grpc.AgentServiceStub(channel),
            issuer,
            store,
            first_party,
            internal,
            auth=auth,
        )

    yield build
    await stack.aclose()
