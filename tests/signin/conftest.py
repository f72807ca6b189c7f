"""A signed-in world, all real and on loopback: the local AuthKit, an auth service trusting it, the Atoms MCP.

The auth service trusts the emulator as production trusts WorkOS (`WORKOS_CLIENT_ID` of the
test application, `WORKOS_API_BASE_URL` = the emulator); the Atoms MCP names the emulator as
its authorization server (`AUTHKIT_DOMAIN`), exactly as `make demo` wires them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from atoms_auth.server import AuthServer
from atoms_auth.settings import load_auth_settings
from atoms_mcp.server import route_fastmcp_logs
from tests.support.local_authkit import APP_CLIENT_ID, LocalAuthKit, MovableClock, local_authkit
from tests.support.mcp_service import start_mcp_service

_READY_TIMEOUT_S = 10.0


@pytest.fixture(scope="session", autouse=True)
def _fastmcp_logs_reach_the_log_check() -> None:
    route_fastmcp_logs()


@dataclass
class SignInWorld:
    """The running parts."""

    authkit: LocalAuthKit
    auth: AuthServer
    mcp_url: str

    @property
    def auth_address(self) -> str:
        """`host:port` of the auth service."""
        return f"127.0.0.1:{self.auth.port}"


@pytest.fixture
def clock() -> MovableClock:
    """The emulator's clock (codes, sessions, token `iat`); the auth service keeps real time."""
    return MovableClock()


@pytest.fixture
async def world(tmp_path: Path, clock: MovableClock, start_auth_server: Any) -> AsyncIterator[SignInWorld]:
    async with local_authkit(tmp_path, clock=clock) as authkit, contextlib.AsyncExitStack() as stack:
        settings = load_auth_settings(
            {"WORKOS_CLIENT_ID": APP_CLIENT_ID, "WORKOS_API_BASE_URL": f"{authkit.url}/"}
        )
        auth = await start_auth_server(replace(settings, metrics_port=None))
        async with asyncio.timeout(_READY_TIMEOUT_S):
            while not auth.is_ready:  # noqa: ASYNC110 - AuthServer exposes readiness only as a property
                await asyncio.sleep(0.02)
        mcp_url = await start_mcp_service(
            stack, tmp_path, issuer=authkit.url, auth_address=f"127.0.0.1:{auth.port}"
        )
        yield SignInWorld(authkit=authkit, auth=auth, mcp_url=mcp_url)
