"""Organization isolation and write permissions, through a running MCP server with emulator tokens.

Org A builds a project, a document and a requirement; org B (and callers without permissions,
and internal services) then try everything they should not be able to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastmcp.exceptions import ToolError

from tests.mcp.conftest import INTERNAL_TOKEN, INTERNAL_WRITER_TOKEN, ORG_A, ORG_B, AuthStack, RunningMcp
from tests.mcp.mcp_clients import fastmcp_client

_ID = re.compile(r"^(prj|doc|req)_[0-9a-f]{32}$")


@dataclass(frozen=True)
class OrgAData:
    """What org A created."""

    project_id: str
    document_id: str
    requirement_id: str


async def _call(
    url: str, token: str, tool: str, /, headers: dict[str, str] | None = None, **args: Any
) -> Any:
    async with fastmcp_client(url, token, headers=headers) as client:
        return (await client.call_tool(tool, args)).structured_content


async def _refusal(
    url: str, token: str, tool: str, /, headers: dict[str, str] | None = None, **args: Any
) -> str:
    async with fastmcp_client(url, token, headers=headers) as client:
        with pytest.raises(ToolError) as raised:
            await client.call_tool(tool, args)
    return str(raised.value)


@pytest.fixture
async def org_a_data(mcp_server: RunningMcp, auth_stack: AuthStack) -> OrgAData:
    async with fastmcp_client(mcp_server.url, auth_stack.writer_token(org_id=ORG_A)) as client:
        project = (await client.call_tool("create_project", {"name": "Secret rover"})).structured_content
        document = (
            await client.call_tool("create_document", {"project_id": project["id"], "title": "Plans"})
        ).structured_content
        requirement = (
            await client.call_tool(
                "create_requirement",
                {"document_id": document["id"], "title": "Stealth", "text": "Quiet wheels"},
            )
        ).structured_content
    return OrgAData(project["id"], document["id"], requirement["id"])


def _unknown(row_id: str) -> str:
    """An id of the same kind that nobody created."""
    return f"{row_id[:4]}{'0' * 32}"


async def test_ids_are_random_and_not_enumerable(org_a_data: OrgAData) -> None:
    ids = (org_a_data.project_id, org_a_data.document_id, org_a_data.requirement_id)
    assert all(_ID.match(row_id) for row_id in ids)
    assert len({row_id[4:] for row_id in ids}) == 3


async def test_another_org_does_not_see_the_projects(
    org_a_data: OrgAData, mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    org_b = auth_stack.writer_token(org_id=ORG_B, subject="user_bob")
    assert await _call(mcp_server.url, org_b, "list_projects") == {"projects": [], "has_more": False}
    assert await _call(mcp_server.url, org_b, "list_requirements") == {"requirements": [], "has_more": False}


async def test_another_orgs_project_is_reported_exactly_like_a_missing_one(
    org_a_data: OrgAData, mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    org_b = auth_stack.token(org_id=ORG_B, subject="user_bob")
    foreign = await _refusal(mcp_server.url, org_b, "list_documents", project_id=org_a_data.project_id)
    unknown_id = _unknown(org_a_data.project_id)
    missing = await _refusal(mcp_server.url, org_b, "list_documents", project_id=unknown_id)
    assert foreign == f"project {org_a_data.project_id!r} was not found"
    assert foreign.replace(org_a_data.project_id, unknown_id) == missing


async def test_another_org_cannot_read_the_requirements_of_a_document(
    org_a_data: OrgAData, mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    org_b = auth_stack.token(org_id=ORG_B, subject="user_bob")
    message = await _refusal(mcp_server.url, org_b, "list_requirements", document_id=org_a_data.document_id)
    assert message == f"document {org_a_data.document_id!r} was not found"


async def test_another_org_cannot_add_a_document_to_the_project(
    org_a_data: OrgAData, mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    org_b = auth_stack.writer_token(org_id=ORG_B, subject="user_bob")
    message = await _refusal(
        mcp_server.url, org_b, "create_document", project_id=org_a_data.project_id, title="Sabotage"
    )
    assert message == f"project {org_a_data.project_id!r} was not found"


async def test_another_org_cannot_update_a_requirement(
    org_a_data: OrgAData, mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    org_b = auth_stack.writer_token(org_id=ORG_B, subject="user_bob")
    message = await _refusal(
        mcp_server.url,
        org_b,
        "update_requirement",
        requirement_id=org_a_data.requirement_id,
        status="rejected",
    )
    assert message == f"requirement {org_a_data.requirement_id!r} was not found"
    org_a = auth_stack.token(org_id=ORG_A)
    listed = await _call(mcp_server.url, org_a, "list_requirements", document_id=org_a_data.document_id)
    assert [r["status"] for r in listed["requirements"]] == ["draft"]


async def test_a_user_cannot_pick_another_org_with_the_org_header(
    org_a_data: OrgAData, mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    org_b = auth_stack.token(org_id=ORG_B, subject="user_bob")
    message = await _refusal(mcp_server.url, org_b, "list_projects", headers={"X-Atoms-Org-Id": ORG_A})
    assert "X-Atoms-Org-Id is for internal service tokens" in message


async def test_a_member_without_write_permission_can_read_but_not_create_a_project(
    org_a_data: OrgAData, mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    reader = auth_stack.token(org_id=ORG_A, subject="user_reader", permissions=("projects:read",))
    listed = await _call(mcp_server.url, reader, "list_projects")
    assert [p["id"] for p in listed["projects"]] == [org_a_data.project_id]
    message = await _refusal(mcp_server.url, reader, "create_project", name="Mine")
    assert (
        message
        == "this needs the 'projects:write' permission (or the admin role); your token does not grant it"
    )


async def test_a_member_without_write_permission_cannot_update_a_requirement(
    org_a_data: OrgAData, mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    reader = auth_stack.token(org_id=ORG_A, subject="user_reader", permissions=("projects:write",))
    message = await _refusal(
        mcp_server.url, reader, "update_requirement", requirement_id=org_a_data.requirement_id, title="Loud"
    )
    assert "'requirements:write' permission" in message


async def test_the_admin_role_may_write_without_listed_permissions(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    admin = auth_stack.token(org_id=ORG_A, subject="user_admin", role="admin")
    project = await _call(mcp_server.url, admin, "create_project", name="Admin's")
    assert project["created_by"] == "user_admin"


async def test_a_user_without_an_organization_cannot_use_org_tools(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    personal = auth_stack.token(org_id=None, subject="user_loner")
    message = await _refusal(mcp_server.url, personal, "list_projects")
    assert message == "your session has no organization; sign in to an organization first"


async def test_internal_token_without_org_header_is_refused_by_org_tools(mcp_server: RunningMcp) -> None:
    me = await _call(mcp_server.url, INTERNAL_TOKEN, "whoami")
    assert (me["kind"], me["service_name"], me["org_id"]) == ("internal", "internal", "")
    message = await _refusal(mcp_server.url, INTERNAL_TOKEN, "list_projects")
    assert message == (
        "an internal service token must name the organization it acts for in the X-Atoms-Org-Id HTTP header"
    )


async def test_internal_token_with_org_header_reads_that_org_only(
    org_a_data: OrgAData, mcp_server: RunningMcp
) -> None:
    as_a = await _call(mcp_server.url, INTERNAL_TOKEN, "list_projects", headers={"X-Atoms-Org-Id": ORG_A})
    as_b = await _call(mcp_server.url, INTERNAL_TOKEN, "list_projects", headers={"X-Atoms-Org-Id": ORG_B})
    assert [p["id"] for p in as_a["projects"]] == [org_a_data.project_id]
    assert as_b["projects"] == []


async def test_internal_token_without_write_scope_cannot_write(mcp_server: RunningMcp) -> None:
    message = await _refusal(
        mcp_server.url, INTERNAL_TOKEN, "create_project", headers={"X-Atoms-Org-Id": ORG_A}, name="Robot's"
    )
    assert "'projects:write' permission" in message


async def test_internal_token_with_write_scope_writes_as_the_named_service(
    org_a_data: OrgAData, mcp_server: RunningMcp
) -> None:
    headers = {"X-Atoms-Org-Id": ORG_A}
    requirement = await _call(
        mcp_server.url,
        INTERNAL_WRITER_TOKEN,
        "create_requirement",
        headers=headers,
        document_id=org_a_data.document_id,
        title="Imported",
        text="From the legacy tracker",
    )
    assert requirement["author"] == "service:importer"


async def test_malformed_org_header_is_refused(mcp_server: RunningMcp) -> None:
    message = await _refusal(
        mcp_server.url, INTERNAL_TOKEN, "list_projects", headers={"X-Atoms-Org-Id": "org A; DROP TABLE"}
    )
    assert message == "X-Atoms-Org-Id: must be 1 to 64 letters, digits or _ . : -"
