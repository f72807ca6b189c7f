"""The Atoms tools through a running MCP server, with FastMCP's client and the official SDK's client."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastmcp.exceptions import ToolError
from sqlalchemy.engine import make_url

from tests.mcp.conftest import ALL_WRITES, ORG_A, AuthStack, RunningMcp
from tests.mcp.mcp_clients import fastmcp_client, sdk_client

TOOLS = {
    "whoami",
    "list_projects",
    "create_project",
    "list_documents",
    "create_document",
    "list_requirements",
    "create_requirement",
    "update_requirement",
}


class ToolCaller:
    """One way to call tools (FastMCP's client or the official SDK's), returning structured content."""

    def __init__(self, client: Any, *, sdk: bool) -> None:
        self._client, self._sdk = client, sdk

    async def __call__(self, tool: str, /, **arguments: Any) -> dict[str, Any]:
        if self._sdk:
            result = await self._client.call_tool(tool, arguments)
            assert not result.is_error, result.content
            return result.structured_content
        return (await self._client.call_tool(tool, arguments)).structured_content


@contextlib.asynccontextmanager
async def _caller(kind: str, url: str, token: str) -> AsyncIterator[ToolCaller]:
    if kind == "mcp-sdk":
        async with sdk_client(url, token) as client:
            yield ToolCaller(client, sdk=True)
    else:
        async with fastmcp_client(url, token) as client:
            yield ToolCaller(client, sdk=False)


async def _error_of(client: Any, tool: str, /, **arguments: Any) -> str:
    with pytest.raises(ToolError) as raised:
        await client.call_tool(tool, arguments)
    return str(raised.value)


async def test_fastmcp_client_lists_every_tool(mcp_server: RunningMcp, auth_stack: AuthStack) -> None:
    async with fastmcp_client(mcp_server.url, auth_stack.token()) as client:
        tools = await client.list_tools()
    assert {tool.name for tool in tools} == TOOLS
    read_only = {tool.name for tool in tools if tool.annotations and tool.annotations.read_only_hint}
    assert read_only == {"whoami", "list_projects", "list_documents", "list_requirements"}


async def test_official_sdk_client_lists_every_tool(mcp_server: RunningMcp, auth_stack: AuthStack) -> None:
    async with sdk_client(mcp_server.url, auth_stack.token()) as client:
        result = await client.list_tools()
    assert {tool.name for tool in result.tools} == TOOLS


@pytest.mark.parametrize("kind", ["fastmcp", "mcp-sdk"])
async def test_whoami_returns_the_principal_of_the_token(
    kind: str, mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    token = auth_stack.token(subject="user_alice", role="member", permissions=("projects:write",))
    async with _caller(kind, mcp_server.url, token) as call:
        me = await call("whoami")
    assert (me["kind"], me["subject"], me["org_id"], me["role"]) == ("user", "user_alice", ORG_A, "member")
    assert me["issuer"] == auth_stack.emulator_url
    assert me["permissions"] == ["projects:write"]
    assert me["may_write"] == ["projects:write"]
    assert me["session_id"].startswith("session_")
    assert me["expires_at"] is not None
    assert me["insecure_dev"] is False


@pytest.mark.parametrize("kind", ["fastmcp", "mcp-sdk"])
async def test_a_writer_calls_every_tool_from_project_to_requirement_update(
    kind: str, mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    async with _caller(kind, mcp_server.url, auth_stack.writer_token()) as call:
        project = await call("create_project", name="Rover", description="Mars rover")
        assert (await call("list_projects"))["projects"] == [project]
        document = await call("create_document", project_id=project["id"], title="Power")
        assert (await call("list_documents", project_id=project["id"]))["documents"] == [document]
        requirement = await call(
            "create_requirement",
            document_id=document["id"],
            title="Battery",
            text="Lasts 10 sols",
            priority="high",
        )
        assert (requirement["status"], requirement["priority"]) == ("draft", "high")
        assert requirement["project_id"] == project["id"]
        assert requirement["author"] == "user_writer"
        updated = await call("update_requirement", requirement_id=requirement["id"], status="approved")
        assert (updated["status"], updated["text"]) == ("approved", "Lasts 10 sols")
        listed = await call("list_requirements", document_id=document["id"])
    assert listed == {"requirements": [updated], "has_more": False}


async def test_list_requirements_filters_by_status_and_text(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    async with fastmcp_client(mcp_server.url, auth_stack.writer_token()) as client:
        call = ToolCaller(client, sdk=False)
        project = await call("create_project", name="Lander")
        document = await call("create_document", project_id=project["id"], title="Thermal")
        for title, text, status in (
            ("Heater", "Keep the battery above -20 C", "approved"),
            ("Radiator", "Reject 50 W at noon", "draft"),
            ("Blanket", "Multi-layer insulation on the BATTERY box", "draft"),
        ):
            await call(
                "create_requirement", document_id=document["id"], title=title, text=text, status=status
            )
        drafts = await call("list_requirements", status="draft")
        battery = await call("list_requirements", query="battery")
        battery_drafts = await call("list_requirements", query="battery", status="draft")
        paged = await call("list_requirements", project_id=project["id"], limit=2)
    assert [r["title"] for r in drafts["requirements"]] == ["Radiator", "Blanket"]
    assert [r["title"] for r in battery["requirements"]] == ["Heater", "Blanket"]
    assert [r["title"] for r in battery_drafts["requirements"]] == ["Blanket"]
    assert (len(paged["requirements"]), paged["has_more"]) == (2, True)


async def test_invalid_status_is_refused_with_the_allowed_values(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    async with fastmcp_client(mcp_server.url, auth_stack.writer_token()) as client:
        message = await _error_of(client, "list_requirements", status="done")
    assert "draft" in message
    assert "approved" in message


async def test_blank_project_name_is_refused_naming_the_argument(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    async with fastmcp_client(mcp_server.url, auth_stack.writer_token()) as client:
        message = await _error_of(client, "create_project", name="   ")
    assert message == "name: must not be empty"


async def test_too_long_title_is_refused_with_the_limit(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    async with fastmcp_client(mcp_server.url, auth_stack.writer_token()) as client:
        message = await _error_of(client, "create_project", name="x" * 201)
    assert message == "name: must be at most 200 characters (got 201)"


async def test_malformed_id_is_refused_with_its_expected_shape(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    async with fastmcp_client(mcp_server.url, auth_stack.token()) as client:
        message = await _error_of(client, "list_documents", project_id="../../etc/passwd")
    assert message == "project_id: must be an id such as prj_ followed by 32 hex digits"


async def test_update_without_changes_is_refused(mcp_server: RunningMcp, auth_stack: AuthStack) -> None:
    async with fastmcp_client(mcp_server.url, auth_stack.writer_token()) as client:
        message = await _error_of(client, "update_requirement", requirement_id="req_" + "0" * 32)
    assert message == "changes: give at least one of title, text, status or priority"


async def test_duplicate_project_name_is_refused(mcp_server: RunningMcp, auth_stack: AuthStack) -> None:
    async with fastmcp_client(mcp_server.url, auth_stack.writer_token()) as client:
        await client.call_tool("create_project", {"name": "Rover"})
        message = await _error_of(client, "create_project", name="Rover")
    assert message == "name: a project named 'Rover' already exists"


async def test_unexpected_failure_is_masked_without_internal_details(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    database = make_url(mcp_server.settings.database_url.get_secret_value()).database
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("DROP TABLE atoms_requirements")
    async with fastmcp_client(mcp_server.url, auth_stack.token()) as client:
        message = await _error_of(client, "list_requirements")
    assert message == "Error calling tool 'list_requirements'"


async def test_member_write_permissions_follow_the_token(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    token = auth_stack.token(permissions=ALL_WRITES[:1])
    async with fastmcp_client(mcp_server.url, token) as client:
        me = (await client.call_tool("whoami", {})).structured_content
    assert me["may_write"] == ["projects:write"]
