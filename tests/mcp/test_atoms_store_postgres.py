"""The store tests of test_atoms_store.py, against PostgreSQL, plus one MCP server on PostgreSQL.

The database is the session's `postgres_url`: ATOMS_TEST_POSTGRES_URL when set, otherwise a
temporary server started from the machine's PostgreSQL binaries; without either the module is
skipped with that reason in the summary. Each test works in organizations of its own, so the
database may be shared with earlier runs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from atoms_mcp.atoms_store import AtomsStore
from tests.mcp.conftest import AuthStack, StartMcp
from tests.mcp.mcp_clients import fastmcp_client

# The same tests as on SQLite, run here with the `store` fixture below.
from tests.mcp.test_atoms_store import *  # noqa: F403


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[AtomsStore]:
    opened = await AtomsStore.open(postgres_url)
    yield opened
    await opened.close()


async def test_mcp_server_serves_its_tools_from_postgresql(
    auth_stack: AuthStack, start_mcp: StartMcp, postgres_url: str
) -> None:
    server = await start_mcp(auth_stack, database_url=postgres_url)
    token = auth_stack.writer_token(org_id=f"org_{uuid.uuid4().hex}")
    async with fastmcp_client(server.url, token) as client:
        project = (await client.call_tool("create_project", {"name": "On PostgreSQL"})).structured_content
        listed = (await client.call_tool("list_projects", {})).structured_content
    assert listed == {"projects": [project], "has_more": False}
