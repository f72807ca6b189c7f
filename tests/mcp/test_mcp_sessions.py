"""Long-lived client sessions: a key rotation, a token expiring, and what they cost in ValidateToken calls."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest
from fastmcp.exceptions import McpError
from prometheus_client import REGISTRY

from tests.mcp.conftest import AuthStack, RunningMcp
from tests.mcp.mcp_clients import SwitchableBearer, fastmcp_client

PUBLISH_LEAD_S = 0.5  # the new key is in the JWKS this long before it signs


def _validations_ok() -> float:
    """ValidateToken calls the auth service (in this process) has answered OK for a user so far."""
    return REGISTRY.get_sample_value("atoms_auth_validations_total", {"kind": "user", "outcome": "ok"}) or 0.0


async def _rotate(emulator_url: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=emulator_url) as http:
        response = await http.post("/dev/rotate", json={"publish_lead_s": PUBLISH_LEAD_S, "grace_s": 300})
    response.raise_for_status()
    return response.json()


async def test_session_keeps_working_across_a_key_rotation_with_old_and_new_tokens(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    old_token = auth_stack.token(subject="user_alice")
    bearer = SwitchableBearer(old_token)
    statuses: list[int] = []
    async with fastmcp_client(mcp_server.url, bearer, statuses=statuses) as client:
        assert (await client.call_tool("whoami", {})).structured_content["subject"] == "user_alice"
        rotation = await _rotate(auth_stack.emulator_url)
        await asyncio.sleep(max(0.0, float(rotation["active_from"]) - time.time()) + 0.05)  # new key signs
        new_token = auth_stack.token(subject="user_alice")
        assert jwt.get_unverified_header(new_token)["kid"] == rotation["kid"] != rotation["previous_kid"]
        bearer.token = new_token
        assert (await client.call_tool("whoami", {})).structured_content["subject"] == "user_alice"
        bearer.token = old_token  # signed by the previous key, which stays published for the grace period
        assert (await client.call_tool("list_projects", {})).structured_content["projects"] == []
    assert set(statuses) == {200}


async def test_token_expiring_during_a_session_is_refused_with_401(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    short_lived = auth_stack.token(subject="user_alice", ttl_s=2)
    expires_at = jwt.decode(short_lived, options={"verify_signature": False})["exp"]
    bearer = SwitchableBearer(short_lived)
    statuses: list[int] = []
    async with fastmcp_client(mcp_server.url, bearer, statuses=statuses) as client:
        assert (await client.call_tool("whoami", {})).structured_content["subject"] == "user_alice"
        # Wait for the token to expire: the server compares whole seconds (`exp < int(now)`).
        await asyncio.sleep(max(0.0, expires_at + 1.05 - time.time()))
        with pytest.raises(McpError, match="error response"):
            await client.call_tool("whoami", {})
        assert statuses[-1] == 401
        bearer.token = auth_stack.token(subject="user_alice")  # what a client does: refresh, go on
        assert (await client.call_tool("whoami", {})).structured_content["subject"] == "user_alice"


async def test_a_warm_session_costs_one_validate_token_call_for_many_tool_calls(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    token = auth_stack.token(subject="user_counted")
    before = _validations_ok()
    async with fastmcp_client(mcp_server.url, token) as client:
        for _ in range(5):
            await client.call_tool("whoami", {})
    assert _validations_ok() - before == 1
