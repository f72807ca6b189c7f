"""The store tests of test_atoms_store.py, against PostgreSQL, plus one MCP server on PostgreSQL.

They run when ATOMS_TEST_POSTGRES_URL names a database the tests may create tables in, such
as `postgresql+asyncpg://atoms:atoms@127.0.0.1:5432/atoms_test`; otherwise the whole module
is skipped, with that reason in the test summary. Each test works in organizations of its
own, so the database may be shared with earlier runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

from services.mcp.atoms_store import AtomsStore
from tests.mcp.conftest import AuthStack, StartMcp
from tests.mcp.mcp_clients import fastmcp_client

# The same tests as on SQLite, run here with the `store` fixture below.
from tests.mcp.test_atoms_store import *  # noqa: F403

POSTGRES_URL = os.environ.get("ATOMS_TEST_POSTGRES_URL", "")
if not POSTGRES_URL:
    pytest.skip(
        "ATOMS_TEST_POSTGRES_URL is not set: no PostgreSQL server to run the store tests against",
        allow_module_level=True,
    )


@pytest.fixture
async def store() -> AsyncIterator[AtomsStore]:
    opened = await AtomsStore.open(POSTGRES_URL)
    yield opened
    await opened.close()


async def test_mcp_server_serves_its_tools_from_postgresql(
    auth_stack: AuthStack, start_mcp: StartMcp
) -> None:
    server = await start_mcp(auth_stack, database_url=POSTGRES_URL)
    token = auth_stack.writer_token(org_id=f"org_{uuid.uuid4().hex}")
    async with fastmcp_client(server.url, token) as client:
        project = (await client.call_tool("create_project", {"name": "On PostgreSQL"})).structured_content
        listed = (await client.call_tool("list_projects", {})).structured_content
    assert listed == {"projects": [project], "has_more": False}
