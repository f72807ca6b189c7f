"""VisibleServersCache and the composer in front of it: per caller, bounded, invalidated by local writes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from atoms_agent.mcp_composition import McpComposer
from atoms_agent.mcp_registry import AuthType, McpRegistry, NewMcpServer, RegisteredMcpServer, ServerScope
from atoms_agent.visible_servers_cache import VisibleServersCache
from atoms_grpc.first_party_mcps import FirstPartyMcp
from atoms_grpc.principal import Principal, PrincipalKind

ORIGIN = "http://127.0.0.1:8000"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingRegistry:
    """Answers from a dict keyed like the registry's query; counts the queries."""

    def __init__(self) -> None:
        self.version = 0
        self.queries = 0
        self.rows: dict[tuple[str, str], list[RegisteredMcpServer]] = {}
        self.during_query: asyncio.Event | None = None

    async def list_visible(self, principal: Principal) -> list[RegisteredMcpServer]:
        self.queries += 1
        answer = list(self.rows.get((principal.org_id, principal.subject), []))
        if self.during_query is not None:
            await self.during_query.wait()
        return answer


def _user(subject: str, org_id: str = "org_a", *, expires_in_s: float | None = None) -> Principal:
    expires_at = datetime.now(UTC) + timedelta(seconds=expires_in_s) if expires_in_s is not None else None
    return Principal(
        kind=PrincipalKind.USER,
        subject=subject,
        issuer="https://issuer.test",
        org_id=org_id,
        expires_at=expires_at,
    )


def _row(name: str, owner: Principal) -> RegisteredMcpServer:
    return RegisteredMcpServer(
        id=f"mcp_{name}",
        scope=ServerScope.USER,
        org_id=owner.org_id,
        user_id=owner.subject,
        name=name,
        url=f"https://{name}.example/mcp",
        auth_type=AuthType.BEARER,
        enabled=True,
        created_at=None,
        bearer_token=f"secret-of-{owner.subject}",
    )


async def test_a_second_read_within_the_ttl_skips_the_registry() -> None:
    source, alice = CountingRegistry(), _user("alice")
    source.rows[("org_a", "alice")] = [_row("alices", alice)]
    cache = VisibleServersCache(source, ttl_s=5.0, clock=FakeClock())
    assert [s.name for s in await cache.list_visible(alice)] == ["alices"]
    assert [s.name for s in await cache.list_visible(alice)] == ["alices"]
    assert source.queries == 1


async def test_an_entry_older_than_the_ttl_is_read_again() -> None:
    source, clock, alice = CountingRegistry(), FakeClock(), _user("alice")
    cache = VisibleServersCache(source, ttl_s=5.0, clock=clock)
    await cache.list_visible(alice)
    clock.now += 5.0
    await cache.list_visible(alice)
    assert source.queries == 2


async def test_a_local_write_invalidates_every_entry() -> None:
    source, alice, bob = CountingRegistry(), _user("alice"), _user("bob")
    cache = VisibleServersCache(source, ttl_s=60.0, clock=FakeClock())
    assert await cache.list_visible(alice) == ()
    await cache.list_visible(bob)
    source.rows[("org_a", "alice")] = [_row("new", alice)]
    source.version += 1  # what McpRegistry.register and .delete do
    assert [s.name for s in await cache.list_visible(alice)] == ["new"]
    await cache.list_visible(bob)
    assert source.queries == 4


async def test_a_read_that_raced_a_write_is_not_kept() -> None:
    source, alice = CountingRegistry(), _user("alice")
    source.during_query = asyncio.Event()
    cache = VisibleServersCache(source, ttl_s=60.0, clock=FakeClock())
    read = asyncio.create_task(cache.list_visible(alice))
    await asyncio.sleep(0)
    source.version += 1  # a registration committed while the query ran
    source.during_query.set()
    await read
    source.during_query = None
    await cache.list_visible(alice)
    assert source.queries == 2
    assert len(cache) == 1


async def test_callers_never_share_an_entry() -> None:
    source = CountingRegistry()
    alice, bob, alice_elsewhere = _user("alice"), _user("bob"), _user("alice", "org_b")
    source.rows[("org_a", "alice")] = [_row("alices", alice)]
    cache = VisibleServersCache(source, ttl_s=60.0, clock=FakeClock())
    assert [s.name for s in await cache.list_visible(alice)] == ["alices"]
    assert await cache.list_visible(bob) == ()
    assert await cache.list_visible(alice_elsewhere) == ()
    assert source.queries == 3


async def test_the_cache_keeps_at_most_max_entries_least_recently_used_first() -> None:
    source = CountingRegistry()
    cache = VisibleServersCache(source, ttl_s=60.0, max_entries=2, clock=FakeClock())
    a, b, c = _user("a"), _user("b"), _user("c")
    await cache.list_visible(a)
    await cache.list_visible(b)
    await cache.list_visible(a)  # b is now the least recently used
    await cache.list_visible(c)
    assert len(cache) == 2
    await cache.list_visible(a)
    assert source.queries == 3
    await cache.list_visible(b)
    assert source.queries == 4


@pytest.mark.parametrize(("ttl_s", "max_entries"), [(0.0, 100), (5.0, 0)])
async def test_a_zero_bound_turns_the_cache_off(ttl_s: float, max_entries: int) -> None:
    source, alice = CountingRegistry(), _user("alice")
    cache = VisibleServersCache(source, ttl_s=ttl_s, max_entries=max_entries, clock=FakeClock())
    await cache.list_visible(alice)
    await cache.list_visible(alice)
    assert source.queries == 2
    assert len(cache) == 0


async def test_register_and_delete_on_the_real_registry_are_seen_at_once(tmp_path: Path) -> None:
    registry = await McpRegistry.open(f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
    try:
        cache = VisibleServersCache(registry, ttl_s=3600.0)
        alice, bob = _user("alice", f"org_{uuid.uuid4().hex}"), _user("bob")
        assert await cache.list_visible(alice) == ()
        stored = await registry.register(
            alice,
            NewMcpServer(
                name="mine", url="https://x.example/mcp", scope=ServerScope.USER, auth_type=AuthType.NONE
            ),
        )
        assert stored is not None
        assert [s.name for s in await cache.list_visible(alice)] == ["mine"]
        assert await cache.list_visible(bob) == ()
        assert await registry.delete(alice, stored.id, may_manage_org=False)
        assert await cache.list_visible(alice) == ()
    finally:
        await registry.close()


def _composer(source: CountingRegistry) -> McpComposer:
    atoms = FirstPartyMcp(
        key="atoms", display_name="Atoms", url=f"{ORIGIN}/api/mcp", requires_user_token=True
    )
    return McpComposer(
        first_party=(atoms,),
        allowed_origins=frozenset({ORIGIN}),
        registry=VisibleServersCache(source, ttl_s=60.0, clock=FakeClock()),
    )


async def test_composition_from_the_cache_carries_each_callers_own_token_and_expiry() -> None:
    source = CountingRegistry()
    alice, bob = _user("alice", expires_in_s=60), _user("bob", expires_in_s=600)
    source.rows[("org_a", "alice")] = [_row("alices", alice)]
    composer = _composer(source)
    first = await composer.compose(alice, "alice-token")
    again = await composer.compose(alice, "alice-token-2")
    bobs = await composer.compose(bob, "bob-token")
    assert [s.name for s in first] == ["atoms", "alices"]
    assert dict(again[0].headers) == {"Authorization": "Bearer alice-token-2"}
    assert again[0].token_expires_at == pytest.approx(alice.expires_at.timestamp())  # type: ignore[union-attr]
    assert [s.name for s in bobs] == ["atoms"]
    assert dict(bobs[0].headers) == {"Authorization": "Bearer bob-token"}
    assert bobs[0].token_expires_at == pytest.approx(bob.expires_at.timestamp())  # type: ignore[union-attr]
    assert dict(first[1].headers) == {"Authorization": "Bearer secret-of-alice"}
    assert source.queries == 2


async def test_find_skips_the_registry_for_system_servers_and_caches_registered_ones() -> None:
    source = CountingRegistry()
    alice = _user("alice")
    source.rows[("org_a", "alice")] = [_row("alices", alice)]
    composer = _composer(source)
    atoms = await composer.find(alice, "tok", "atoms")
    assert atoms is not None
    assert atoms.forwards_user_token
    assert atoms.first_party
    assert source.queries == 0
    assert (await composer.find(alice, "tok", "alices")) is not None
    assert (await composer.find(alice, "tok", "alices")) is not None
    assert (await composer.find(_user("bob"), "tok", "alices")) is None
    assert source.queries == 2


async def test_a_first_party_entry_off_the_allow_list_never_gets_the_token() -> None:
    elsewhere = FirstPartyMcp(
        key="atoms", display_name="Atoms", url="https://evil.example/api/mcp", requires_user_token=True
    )
    composer = McpComposer(
        first_party=(elsewhere,), allowed_origins=frozenset({ORIGIN}), registry=CountingRegistry()
    )
    server = await composer.find(_user("alice"), "tok", "atoms")
    assert server is not None
    assert not server.first_party
    assert not server.forwards_user_token
    assert dict(server.headers) == {}
