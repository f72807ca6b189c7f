"""The MCP registry on SQLite and PostgreSQL: one code path, the same answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atoms_agent.errors import AgentError, McpServerLimitError, McpServerNameTakenError
from atoms_agent.mcp_registry import AuthType, McpRegistry, NewMcpServer, ServerScope
from atoms_grpc.principal import Principal, PrincipalKind


@pytest.fixture(params=["sqlite", "postgresql"])
async def registry(request, tmp_path: Path) -> AsyncIterator[McpRegistry]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = await McpRegistry.open(url)
    yield opened
    await opened.close()


def _user(subject: str, org_id: str) -> Principal:
    return Principal(kind=PrincipalKind.USER, subject=subject, issuer="https://issuer.test", org_id=org_id)


def _server(name: str, scope: ServerScope = ServerScope.USER, secret: str = "") -> NewMcpServer:
    auth = AuthType.BEARER if secret else AuthType.NONE
    return NewMcpServer(
        name=name, url="https://x.example/mcp", scope=scope, auth_type=auth, bearer_token=secret
    )


async def test_registered_servers_are_visible_to_their_owner_and_org_only(registry: McpRegistry) -> None:
    org, other_org = f"org_{uuid.uuid4().hex}", f"org_{uuid.uuid4().hex}"
    alice, bob, eve = _user("alice", org), _user("bob", org), _user("eve", other_org)
    await registry.register(alice, _server("alices"))
    await registry.register(alice, _server("shared", ServerScope.ORGANIZATION))
    assert {s.name for s in await registry.list_visible(alice)} == {"alices", "shared"}
    assert {s.name for s in await registry.list_visible(bob)} == {"shared"}
    assert await registry.list_visible(eve) == []


async def test_a_taken_name_is_reported_and_nothing_is_stored(registry: McpRegistry) -> None:
    alice = _user("alice", f"org_{uuid.uuid4().hex}")
    await registry.register(alice, _server("dup"), limit=20)
    with pytest.raises(McpServerNameTakenError):
        await registry.register(alice, _server("dup"), limit=20)
    assert await registry.count_owned(alice, ServerScope.USER) == 1


async def _outcome(registry: McpRegistry, alice: Principal, server: NewMcpServer, limit: int) -> str:
    try:
        await registry.register(alice, server, limit=limit)
    except AgentError as err:
        return err.reason
    return "stored"


async def test_concurrent_registrations_store_exactly_the_limit(registry: McpRegistry) -> None:
    alice = _user("alice", f"org_{uuid.uuid4().hex}")
    outcomes = await asyncio.gather(*(_outcome(registry, alice, _server(f"s{i}"), 20) for i in range(40)))
    assert sorted(outcomes) == ["MCP_SERVER_LIMIT"] * 20 + ["stored"] * 20
    assert await registry.count_owned(alice, ServerScope.USER) == 20


async def test_the_limit_counts_per_owner_and_scope(registry: McpRegistry) -> None:
    org = f"org_{uuid.uuid4().hex}"
    alice, bob = _user("alice", org), _user("bob", org)
    await registry.register(alice, _server("mine"), limit=1)
    await registry.register(bob, _server("mine"), limit=1)
    await registry.register(alice, _server("shared", ServerScope.ORGANIZATION), limit=1)
    with pytest.raises(McpServerLimitError):
        await registry.register(bob, _server("other", ServerScope.ORGANIZATION), limit=1)


async def test_concurrent_registrations_of_one_name_store_one(registry: McpRegistry) -> None:
    alice = _user("alice", f"org_{uuid.uuid4().hex}")
    outcomes = await asyncio.gather(*(_outcome(registry, alice, _server("dup"), 20) for _ in range(10)))
    assert sorted(outcomes) == ["MCP_SERVER_NAME_TAKEN"] * 9 + ["stored"]
    assert [s.name for s in await registry.list_visible(alice)] == ["dup"]


async def test_the_registering_user_is_stored(registry: McpRegistry) -> None:
    org = f"org_{uuid.uuid4().hex}"
    await registry.register(_user("alice", org), _server("shared", ServerScope.ORGANIZATION))
    (stored,) = await registry.list_visible(_user("bob", org))
    assert stored.created_by == "alice"


async def test_the_stored_credential_comes_back_only_to_the_agent_and_never_in_repr(
    registry: McpRegistry,
) -> None:
    alice = _user("alice", f"org_{uuid.uuid4().hex}")
    await registry.register(alice, _server("vendor", secret="s3cret-value"))
    (stored,) = await registry.list_visible(alice)
    assert stored.bearer_token == "s3cret-value"
    assert "s3cret-value" not in repr(stored)


async def test_only_the_owner_deletes_a_user_server(registry: McpRegistry) -> None:
    org = f"org_{uuid.uuid4().hex}"
    alice, bob = _user("alice", org), _user("bob", org)
    created = await registry.register(alice, _server("mine"))
    assert created is not None
    assert not await registry.delete(bob, created.id, may_manage_org=True)
    assert await registry.delete(alice, created.id, may_manage_org=False)
    assert await registry.list_visible(alice) == []
