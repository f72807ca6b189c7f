"""The notes example against the real stack, in-process on loopback.

`notes_stack` runs the AuthKit emulator, the auth service trusting it, the real Atoms MCP
service, the agent configured with it as its first-party `atoms` server, and the notes
service built by `NotesServer` exactly as `python -m notes_service serve` builds it.
Every token minted here is remembered, so the log check of tests/conftest.py fails a test
that logs one.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import grpc
import pytest_asyncio

from atoms_agent.server import AgentServer
from atoms_agent.settings import load_agent_settings
from atoms_auth.server import AuthServer
from atoms_auth.settings import load_auth_settings
from atoms_devtools.authkit_emulator import EmulatorKeyStore, mint_token, running_emulator
from atoms_mcp.server import route_fastmcp_logs
from notes_service.server import NotesServer
from notes_service.settings import NotesSettings
from notes_service.stubs import notes_pb2_grpc
from tests.support.mcp_service import start_mcp_service
from tests.support.token_factory import remember

CLIENT_ID = "client_notes_example_tests"
_READY_TIMEOUT_S = 10.0


@dataclass
class NotesStack:
    """The running stack, a stub of the notes service and a token minter."""

    issuer: str
    key_store: EmulatorKeyStore
    notes: NotesServer
    agent: AgentServer
    channel: grpc.aio.Channel
    stub: notes_pb2_grpc.NotesServiceStub
    internal_token: str

    @property
    def notes_address(self) -> str:
        """`host:port` of the notes service."""
        return f"127.0.0.1:{self.notes.port}"

    def token(self, subject: str = "user_ada", org_id: str | None = "org_acme", **claims: Any) -> str:
        """An AuthKit-shaped session token (remembered for the log check)."""
        return remember(
            mint_token(self.key_store, issuer=self.issuer, subject=subject, org_id=org_id, **claims)
        )

    @staticmethod
    def metadata(token: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        """`authorization: Bearer <token>` plus any extra pairs."""
        return (("authorization", f"Bearer {token}"), *extra)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def notes_stack(tmp_path_factory) -> AsyncIterator[NotesStack]:
    """Emulator, auth, Atoms MCP, agent and notes; all stopped after the module."""
    route_fastmcp_logs()  # FastMCP logs to its own console; the token check must see its lines
    workdir = tmp_path_factory.mktemp("notes-stack")
    async with contextlib.AsyncExitStack() as stack:
        keys = EmulatorKeyStore(path=workdir / "authkit-keys.json")
        issuer = await stack.enter_async_context(running_emulator(keys))
        internal = remember(secrets.token_urlsafe(36))
        auth_address = await _start_auth(stack, issuer=issuer, internal_token=internal)
        mcp_url = await start_mcp_service(stack, workdir, issuer=issuer, auth_address=auth_address)
        agent = AgentServer(
            load_agent_settings(
                {
                    "ATOMS_AUTH_ADDR": auth_address,
                    "ATOMS_MCP_URL": mcp_url,
                    "ATOMS_AGENT_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'agent.db'}",
                },
                # Free ports: load_agent_settings ignores None overrides, so None kept the default 3284.
                overrides={"port": 0, "http_port": 0},
            )
        )
        await agent.start()
        stack.push_async_callback(agent.stop)
        notes = NotesServer(
            NotesSettings(
                port=0,
                database_url=f"sqlite+aiosqlite:///{workdir / 'notes.db'}",
                auth_address=auth_address,
                agent_address=f"127.0.0.1:{agent.port}",
            )
        )
        await notes.start()
        stack.push_async_callback(notes.stop)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{notes.port}")
        stack.push_async_callback(channel.close)
        yield NotesStack(
            issuer, keys, notes, agent, channel, notes_pb2_grpc.NotesServiceStub(channel), internal
        )


async def _start_auth(stack: contextlib.AsyncExitStack, *, issuer: str, internal_token: str) -> str:
    settings = load_auth_settings(
        {
            "WORKOS_CLIENT_ID": CLIENT_ID,
            "WORKOS_API_BASE_URL": f"{issuer}/",
            "ATOMS_INTERNAL_TOKEN": internal_token,
        }
    )
    auth = AuthServer(replace(settings, host="127.0.0.1", port=0, metrics_port=None))
    await auth.start()
    stack.push_async_callback(auth.stop)
    async with asyncio.timeout(_READY_TIMEOUT_S):
        while not auth.is_ready:  # noqa: ASYNC110 - AuthServer exposes readiness only as a property
            await asyncio.sleep(0.02)
    return f"127.0.0.1:{auth.port}"
