"""The Atoms MCP takes the caller's `x-request-id` when well formed (else makes one) and echoes it."""

from __future__ import annotations

import re

import httpx

from tests.mcp.conftest import AuthStack, StartMcp


async def test_a_well_formed_request_id_is_kept_and_a_bad_one_replaced(
    auth_stack: AuthStack, start_mcp: StartMcp
) -> None:
    mcp = await start_mcp(auth_stack)
    async with httpx.AsyncClient(base_url=mcp.base_url, timeout=10) as http:
        kept = await http.get("/health", headers={"x-request-id": "req-mcp-42"})
        replaced = await http.get("/health", headers={"x-request-id": "not acceptable!"})
        made = await http.get("/health")
    assert kept.headers["x-request-id"] == "req-mcp-42"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert made.headers["x-request-id"] != replaced.headers["x-request-id"]
