"""Fixtures for the MCP service tests: the AuthKit emulator, the auth service and MCP servers, all real.

`auth_stack` runs the emulator and an auth service trusting it (first-party WorkOS issuer, as
in production, plus one internal token). `start_mcp` runs MCP servers on free loopback
ports, built through the same `McpServer` production uses. Every token minted here is
remembered, so the log check of tests/conftest.py fails a test that logs one.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from atoms_auth.jwks_cache import JwksCachePolicy
from atoms_auth.server import AuthServer
from atoms_auth.settings import InternalTokenSpec, load_auth_settings
from atoms_devtools.authkit_emulator import EmulatorKeyStore, mint_token, running_emulator
from atoms_mcp.server import McpServer, route_fastmcp_logs
from atoms_mcp.settings import McpSettings
from tests.support.token_factory import remember

CLIENT_ID = "client_atoms_mcp_tests"
INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))  # name "internal", no scopes: read-only here
INTERNAL_WRITER_TOKEN = remember(secrets.token_urlsafe(36))  # name "importer", every write scope
ORG_A = "org_01ALPHA"
ORG_B = "org_01BRAVO"
ALL_WRITES = ("projects:write", "documents:write", "requirements:write")
# Kid-triggered JWKS refetches are allowed this soon after the last fetch (production: 10 s),
# so a test can rotate the emulator's key and use the new key within a second.
JWKS_REFRESH_COOLDOWN_S = 0.2
_READY_TIMEOUT_S = 10.0


@pytest.fixture(scope="session", autouse=True)
def _fastmcp_logs_reach_the_log_check() -> None:
    """FastMCP logs to its own console handler; route it to the root so the token check sees it."""
    route_fastmcp_logs()


@dataclass
class AuthStack:
    """A running emulator and an auth service that trusts it."""

    emulator_url: str
    keys: EmulatorKeyStore
    auth: AuthServer

    @property
    def auth_addr(self) -> str:
        """`host:port` of the auth service."""
        return f"127.0.0.1:{self.auth.port}"

    def token(
        self,
        *,
        subject: str = "user_alice",
        org_id: str | None = ORG_A,
        role: str = "member",
        permissions: Sequence[str] = (),
        scopes: Sequence[str] = (),
        ttl_s: int = 300,
    ) -> str:
        """Mint an AuthKit-shaped session token at the emulator (remembered for the log check)."""
        return remember(
            mint_token(
                self.keys,
                issuer=self.emulator_url,
                subject=subject,
                org_id=org_id,
                role=role,
                permissions=permissions,
                scopes=scopes,
                ttl_s=ttl_s,
            )
        )

    def writer_token(self, *, org_id: str = ORG_A, subject: str = "user_writer") -> str:
        """A member of `org_id` holding every write permission."""
        return self.token(subject=subject, org_id=org_id, permissions=ALL_WRITES)


@pytest.fixture
async def auth_stack(tmp_path: Path, start_auth_server: Any) -> AsyncIterator[AuthStack]:
    keys = EmulatorKeyStore(path=tmp_path / "authkit" / "keys.json")
    async with running_emulator(keys, host="127.0.0.1", port=0, jwks_max_age_s=60) as emulator_url:
        settings = load_auth_settings(
            {
                "WORKOS_CLIENT_ID": CLIENT_ID,
                "WORKOS_API_BASE_URL": f"{emulator_url}/",
                "ATOMS_INTERNAL_TOKEN": INTERNAL_TOKEN,
            }
        )
        importer = InternalTokenSpec(
            name="importer", token=SecretStr(INTERNAL_WRITER_TOKEN), scopes=ALL_WRITES
        )
        settings = replace(
            settings,
            internal_tokens=(*settings.internal_tokens, importer),
            metrics_port=None,
            jwks=JwksCachePolicy(refresh_cooldown_s=JWKS_REFRESH_COOLDOWN_S),
        )
        auth = await start_auth_server(settings)
        await wait_until_ready(auth)
        yield AuthStack(emulator_url=emulator_url, keys=keys, auth=auth)


async def wait_until_ready(auth: AuthServer) -> None:
    """Wait until the auth service has its issuers' keys (it warms them in the background)."""
    async with asyncio.timeout(_READY_TIMEOUT_S):
        while not auth.is_ready:  # noqa: ASYNC110 - AuthServer exposes readiness only as a property
            await asyncio.sleep(0.02)


@dataclass
class RunningMcp:
    """A running MCP server."""

    server: McpServer
    base_url: str

    @property
    def url(self) -> str:
        """The MCP endpoint."""
        return f"{self.base_url}{self.server.settings.path}"

    @property
    def settings(self) -> McpSettings:
        """The settings it runs with."""
        return self.server.settings


StartMcp = Callable[..., Awaitable[RunningMcp]]


@pytest.fixture
async def start_mcp(tmp_path: Path) -> AsyncIterator[StartMcp]:
    """`await start_mcp(auth_stack, **settings)`: an MCP server on a free port; stopped after the test.

    Settings default to a full authenticated setup against `auth_stack` (None: no auth
    configured, for insecure-dev tests) with a SQLite file in tmp_path.
    """
    servers: list[McpServer] = []
    listeners: list[socket.socket] = []

    async def start(stack: AuthStack | None, **overrides: Any) -> RunningMcp:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)
        port = listener.getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        values: dict[str, Any] = {
            "port": port,
            "database_url": f"sqlite+aiosqlite:///{tmp_path / f'atoms-{len(listeners)}.db'}",
            "auth_timeout_s": 1.0,
        }
        if stack is not None:
            values |= {
                "base_url": base_url,
                "authkit_domain": stack.emulator_url,
                "auth_addr": stack.auth_addr,
            }
        server = McpServer(McpSettings.model_validate(values | overrides))
        await server.start(sockets=[listener])
        servers.append(server)
        return RunningMcp(server=server, base_url=base_url)

    yield start
    for server in reversed(servers):
        await server.stop()
    for listener in listeners:
        listener.close()


@pytest.fixture
async def mcp_server(auth_stack: AuthStack, start_mcp: StartMcp) -> RunningMcp:
    """An authenticated MCP server against `auth_stack`."""
    return await start_mcp(auth_stack)


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])
