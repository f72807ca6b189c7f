"""`--insecure-dev`: the server runs without authentication, says so at start, and marks every tool result."""

from __future__ import annotations

import json

from tests.conftest import log_lines
from tests.mcp.conftest import StartMcp
from tests.mcp.mcp_clients import fastmcp_client


async def test_insecure_dev_server_warns_loudly_at_start(start_mcp: StartMcp) -> None:
    before = len(log_lines())
    await start_mcp(None, insecure_dev=True)
    warnings = [json.loads(line) for line in log_lines()[before:] if "INSECURE DEV MODE" in line]
    assert [entry["severity"] for entry in warnings] == ["CRITICAL"]
    assert "ATOMS_MCP_BASE_URL, AUTHKIT_DOMAIN" in warnings[0]["message"]


async def test_insecure_dev_server_marks_every_tool_result(start_mcp: StartMcp) -> None:
    server = await start_mcp(None, insecure_dev=True)
    async with fastmcp_client(server.url, None) as client:
        me = await client.call_tool("whoami", {})
        created = await client.call_tool("create_project", {"name": "Sandbox"})
        refused = await client.call_tool(
            "list_documents", {"project_id": "prj_" + "0" * 32}, raise_on_error=False
        )
    assert [result.meta["insecure_dev"] for result in (me, created, refused)] == [True, True, True]
    assert me.structured_content["insecure_dev"] is True
    assert refused.is_error


async def test_insecure_dev_caller_is_a_dev_admin_of_the_org_in_the_header(start_mcp: StartMcp) -> None:
    server = await start_mcp(None, insecure_dev=True)
    async with fastmcp_client(server.url, None, headers={"X-Atoms-Org-Id": "org_sandbox"}) as client:
        me = (await client.call_tool("whoami", {})).structured_content
    assert (me["subject"], me["org_id"], me["role"]) == ("user_insecure_dev", "org_sandbox", "admin")
