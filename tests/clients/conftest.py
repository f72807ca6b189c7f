"""The whole stack the client libraries talk to, in-process on loopback: real servers, no fakes but the model.

`client_stack` runs the AuthKit emulator, the auth service trusting it, the real Atoms MCP
service, a local OpenAI-protocol model that asks for the Atoms MCP `whoami` tool, and the
agent configured from the same first-party list and environment names production uses.
Every token minted here is remembered, so the log check of tests/conftest.py fails a test
that logs one.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from atoms_agent.server import AgentServer
from atoms_agent.settings import load_agent_settings
from atoms_auth.settings import load_auth_settings
from atoms_devtools.authkit_emulator import EmulatorKeyStore, mint_token, running_emulator
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from atoms_mcp.server import route_fastmcp_logs
from tests.mcp.conftest import wait_until_ready
from tests.support.fake_model_server import FakeModel
from tests.support.mcp_service import start_mcp_service
from tests.support.token_factory import remember

CLIENT_ID = "client_atoms_clients_tests"
ORG_ID = "org_01CLIENTS"
MODEL_KEY = remember("sk-clients-model-key-" + "k" * 24)


@pytest.fixture(scope="session", autouse=True)
def _fastmcp_logs_reach_the_log_check() -> None:
    """FastMCP logs to its own console handler; route it to the root so the token check sees it."""
    route_fastmcp_logs()


@dataclass
class ClientStack:
    """The running stack and a token minter for its emulator."""

    issuer: str
    key_store: EmulatorKeyStore
    agent: AgentServer
    mcp_url: str
    model: FakeModel

    @property
    def agent_address(self) -> str:
        """`host:port` of the agent's gRPC API."""
        return f"127.0.0.1:{self.agent.port}"

    @property
    def agent_http_url(self) -> str:
        """The agent's HTTP face."""
        return f"http://127.0.0.1:{self.agent.http_port}"

    def token(self, subject: str = "user_client", **claims: Any) -> str:
        """An AuthKit-shaped session token of a member of ORG_ID (remembered for the log check)."""
        claims.setdefault("org_id", ORG_ID)
        return remember(mint_token(self.key_store, issuer=self.issuer, subject=subject, **claims))

    def expired_token(self, subject: str = "user_client") -> str:
        """A token whose `exp` passed ten minutes ago (the emulator's key cannot sign in the past)."""
        now = int(time.time())
        return self.token(subject, extra_claims={"iat": now - 660, "exp": now - 600})


def tampered(token: str) -> str:
    """The token with the end of its signature replaced (remembered for the log check)."""
    tail = "AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"
    return remember(token[: -len(tail)] + tail)


@pytest.fixture
async def client_stack(tmp_path: Path, start_auth_server: Callable[..., Any]) -> AsyncIterator[ClientStack]:
    """Emulator, auth service, Atoms MCP, a scripted model and the agent; all stopped after the test."""
    async with contextlib.AsyncExitStack() as stack:
        keys = EmulatorKeyStore(path=tmp_path / "authkit" / "keys.json")
        issuer = await stack.enter_async_context(running_emulator(keys))
        auth_settings = load_auth_settings(
            {
                "WORKOS_CLIENT_ID": CLIENT_ID,
                "WORKOS_API_BASE_URL": f"{issuer}/",
                "ATOMS_INTERNAL_TOKEN": remember(secrets.token_urlsafe(36)),
            }
        )
        auth = await start_auth_server(replace(auth_settings, metrics_port=None))
        await wait_until_ready(auth)
        auth_address = f"127.0.0.1:{auth.port}"
        mcp_url = await start_mcp_service(stack, tmp_path, issuer=issuer, auth_address=auth_address)
        model = FakeModel(tool_name="atoms__whoami", tool_arguments={})
        model_server = EmbeddedHttpServer(model.app())
        await model_server.start()
        stack.push_async_callback(model_server.stop)
        agent_settings = load_agent_settings(
            {
                "ATOMS_AUTH_ADDR": auth_address,
                "ATOMS_MCP_URL": mcp_url,
                "ATOMS_AGENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'agent.db'}",
                "ATOMS_AGENT_MCP_EGRESS_ALLOW": "docs.example",
                "ATOMS_LLM_BASE_URL": f"{model_server.base_url}/v1",
                "ATOMS_LLM_MODEL": "fake-model",
                "ATOMS_LLM_API_KEY": MODEL_KEY,
            },
            overrides={"port": 0, "http_port": 0},
        )
        agent = AgentServer(agent_settings)
        await agent.start()
        stack.push_async_callback(agent.stop)
        yield ClientStack(issuer=issuer, key_store=keys, agent=agent, mcp_url=mcp_url, model=model)
