"""The agent's cost per user: a refreshed token costs no handshake, a session is per principal and
server, a session a call holds is never closed, and an idle user costs the pool almost nothing.

Stateful servers here are real FastMCP servers playing pre-2026 MCP (they refuse
`server/discover`), so the agent opens a session with `initialize` and the server remembers
things per `Mcp-Session-Id`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
import time
import tracemalloc

import pytest

from atoms.agent.v1 import agent_pb2
from atoms_agent.errors import McpUnauthenticatedError
from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_agent.mcp_registry import ServerScope
from atoms_agent.mcp_session_pool import McpSessionPool
from atoms_grpc.principal import Principal, PrincipalKind
from tests.support.stateful_mcp_servers import held_server, notes_server, struct_args
from tests.support.token_factory import remember

MEMORY_GOAL_BYTES = 50 * 1000  # issue 16: agent memory per active user
STATEFUL_SESSION_BOUND_BYTES = 64 * 1024  # a session of the MCP SDK's own, measured at about 50 KB


def _principal(subject: str, org_id: str = "org_a") -> Principal:
    return Principal(kind=PrincipalKind.USER, subject=subject, issuer="https://issuer.test", org_id=org_id)


ALICE, BOB = _principal("user_alice"), _principal("user_bob")


def _first_party(url: str, token: str, *, expires_in_s: float = 300.0) -> ComposedMcpServer:
    """A first-party system server as the composer builds it for a caller holding `token`."""
    return ComposedMcpServer(
        name="atoms",
        url=url,
        scope=ServerScope.SYSTEM,
        first_party=True,
        forwards_user_token=True,
        headers={"Authorization": f"Bearer {token}"},
        token_expires_at=time.time() + expires_in_s,
    )


@pytest.mark.parametrize("stateless", [True, False], ids=["listed-stateless", "listed-stateful"])
async def test_a_refreshed_token_for_the_same_user_opens_no_new_session_and_no_new_handshake(
    agent_stack_factory, stateless: bool
) -> None:
    stack = await agent_stack_factory(first_party_stateless=stateless)
    first, refreshed = stack.token("user_alice"), stack.token("user_alice")
    assert first != refreshed
    for token in (first, refreshed, first):
        await stack.stub.CallTool(
            agent_pb2.CallToolRequest(server_name="atoms", tool_name="echo", arguments=struct_args(text="x")),
            metadata=stack.metadata(token),
            timeout=10,
        )

    calls = [sent.authorization for sent in stack.first_party.requests if sent.method == "tools/call"]
    assert calls == [f"Bearer {first}", f"Bearer {refreshed}", f"Bearer {first}"]
    assert stack.first_party.handshakes == 1


async def test_a_stateful_session_keeps_its_state_across_a_token_refresh(recording_mcp_factory) -> None:
    notes = await recording_mcp_factory("notes", server_app=notes_server(), stateless=False, legacy_only=True)
    first, refreshed = remember(secrets.token_urlsafe(24)), remember(secrets.token_urlsafe(24))
    pool = McpSessionPool(idle_s=60, max_entries=10, request_timeout_s=10)
    try:
        await pool.call_tool(
            _first_party(notes.url, first),
            "remember",
            {"note": "alice's"},
            principal=ALICE,
            timeout_s=10,
        )
        recalled = await pool.call_tool(
            _first_party(notes.url, refreshed), "recall", {}, principal=ALICE, timeout_s=10
        )
    finally:
        await pool.close()

    assert recalled.content[0].text == "alice's"
    assert notes.count("initialize") == 1
    assert len(set(notes.session_ids)) == 1
    calls = [sent.authorization for sent in notes.requests if sent.method == "tools/call"]
    assert calls == [f"Bearer {first}", f"Bearer {refreshed}"]
    assert set(notes.authorizations) <= {f"Bearer {first}", f"Bearer {refreshed}"}


async def test_two_users_never_share_a_stateful_session_even_with_the_same_headers(
    recording_mcp_factory,
) -> None:
    notes = await recording_mcp_factory("notes", server_app=notes_server(), stateless=False, legacy_only=True)
    shared_secret = remember(secrets.token_urlsafe(24))
    vendor = ComposedMcpServer(
        name="notes",
        url=notes.url,
        scope=ServerScope.ORGANIZATION,
        first_party=False,
        forwards_user_token=False,
        headers={"Authorization": f"Bearer {shared_secret}"},
    )
    pool = McpSessionPool(idle_s=60, max_entries=10, request_timeout_s=10)
    try:
        await pool.call_tool(vendor, "remember", {"note": "alice's"}, principal=ALICE, timeout_s=10)
        bobs = await pool.call_tool(vendor, "recall", {}, principal=BOB, timeout_s=10)
        alices = await pool.call_tool(vendor, "recall", {}, principal=ALICE, timeout_s=10)
    finally:
        await pool.close()

    assert alices.content[0].text == "alice's"
    assert bobs.content[0].text == "nothing remembered"
    assert len(set(notes.session_ids)) == 2


async def test_a_full_pool_never_evicts_a_session_a_call_holds(recording_mcp_factory) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    held = await recording_mcp_factory("held", server_app=held_server(entered, release))
    pool = McpSessionPool(idle_s=60, max_entries=1, request_timeout_s=10)
    try:
        running = asyncio.ensure_future(
            pool.call_tool(_first_party(held.url, "alice"), "hold", {}, principal=ALICE, timeout_s=10)
        )
        await asyncio.wait_for(entered.wait(), timeout=10)
        await pool.call_tool(_first_party(held.url, "bob"), "ping", {}, principal=BOB, timeout_s=10)
        release.set()
        result = await running
        again = await pool.call_tool(
            _first_party(held.url, "alice"), "ping", {}, principal=ALICE, timeout_s=10
        )
    finally:
        release.set()
        await pool.close()

    assert result.content[0].text == "released"
    assert again.content[0].text == "pong"
    assert held.handshakes == 2  # one session each: alice's was never closed under her call


@pytest.mark.parametrize("stateless", [True, False], ids=["listed-stateless", "listed-stateful"])
async def test_an_expired_forwarded_token_is_refused_before_anything_is_sent(
    recording_mcp_factory, stateless: bool
) -> None:
    atoms = await recording_mcp_factory("atoms")
    pool = McpSessionPool(
        idle_s=60,
        max_entries=10,
        request_timeout_s=10,
        stateless_first_party=frozenset({"atoms"}) if stateless else frozenset(),
    )
    expired = _first_party(atoms.url, remember(secrets.token_urlsafe(24)), expires_in_s=-1)
    try:
        with pytest.raises(McpUnauthenticatedError, match="expired"):
            await pool.call_tool(expired, "echo", {"text": "x"}, principal=ALICE, timeout_s=10)
    finally:
        await pool.close()

    assert atoms.requests == []


# What the test process keeps that is not the pool's: what the recording server remembers of
# each request (log records, which the suite keeps, are not made while measuring).
_NOT_THE_POOLS = (
    tracemalloc.Filter(False, "*/tests/*"),
    tracemalloc.Filter(False, tracemalloc.__file__),
)


async def _bytes_per_user(pool: McpSessionPool, url: str, users: int) -> float:
    """Memory the pool keeps per user after each of `users` users made one call (tracemalloc)."""

    async def call(index: int) -> None:
        principal = _principal(f"user_{index:04d}", org_id=f"org_{index % 7}")
        result = await pool.call_tool(
            _first_party(url, f"token-{index}"), "echo", {"text": "x"}, principal=principal, timeout_s=10
        )
        assert not result.is_error

    for index in range(3):  # warm: the connection pool, the protocol version, the SDK's caches
        await call(-1 - index)
    gc.collect()
    logging.disable(logging.CRITICAL)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot().filter_traces(_NOT_THE_POOLS)
        for batch in range(0, users, 10):
            await asyncio.gather(*(call(index) for index in range(batch, min(batch + 10, users))))
        gc.collect()
        after = tracemalloc.take_snapshot().filter_traces(_NOT_THE_POOLS)
    finally:
        tracemalloc.stop()
        logging.disable(logging.NOTSET)
    return sum(stat.size_diff for stat in after.compare_to(before, "filename")) / users


async def test_an_idle_user_of_a_stateless_first_party_server_costs_the_pool_under_50_kb(
    recording_mcp_factory,
) -> None:
    atoms = await recording_mcp_factory("atoms")
    pool = McpSessionPool(
        idle_s=600, max_entries=10_000, request_timeout_s=10, stateless_first_party=frozenset({"atoms"})
    )
    try:
        per_user = await _bytes_per_user(pool, atoms.url, users=300)
    finally:
        await pool.close()

    assert per_user <= MEMORY_GOAL_BYTES, f"{per_user:,.0f} bytes per user"
    assert len(pool) == 0  # no session at all


async def test_an_idle_users_stateful_session_stays_small(recording_mcp_factory) -> None:
    atoms = await recording_mcp_factory("atoms")
    pool = McpSessionPool(idle_s=600, max_entries=10_000, request_timeout_s=10)
    try:
        per_user = await _bytes_per_user(pool, atoms.url, users=100)
        sessions = len(pool)
    finally:
        await pool.close()

    assert sessions == 103
    assert per_user <= STATEFUL_SESSION_BOUND_BYTES, f"{per_user:,.0f} bytes per session"


async def test_a_stateless_server_that_predates_mcp_2026_is_called_with_no_handshake_at_all(
    recording_mcp_factory,
) -> None:
    atoms = await recording_mcp_factory("atoms", legacy_only=True)
    pool = McpSessionPool(
        idle_s=60, max_entries=10, request_timeout_s=10, stateless_first_party=frozenset({"atoms"})
    )
    try:
        for subject in ("user_alice", "user_bob", "user_alice"):
            result = await pool.call_tool(
                _first_party(atoms.url, subject),
                "echo",
                {"text": "x"},
                principal=_principal(subject),
                timeout_s=10,
            )
            assert result.content[0].text == "atoms says x"
    finally:
        await pool.close()

    assert atoms.count("initialize") == 0
    assert atoms.count("server/discover") == 1  # learnt once per server, refused, never asked again
    assert atoms.count("tools/call") == 3


@pytest.mark.parametrize("stateless", [True, False], ids=["listed-stateless", "listed-stateful"])
async def test_one_callers_refused_token_never_fails_another_callers_calls(
    recording_mcp_factory, stateless: bool
) -> None:
    good = remember(secrets.token_urlsafe(24))
    atoms = await recording_mcp_factory("atoms", required_bearer=good)
    pool = McpSessionPool(
        idle_s=60,
        max_entries=10,
        request_timeout_s=10,
        stateless_first_party=frozenset({"atoms"}) if stateless else frozenset(),
    )
    try:
        before = await pool.call_tool(
            _first_party(atoms.url, good), "echo", {"text": "1"}, principal=ALICE, timeout_s=10
        )
        with pytest.raises(McpUnauthenticatedError):
            await pool.call_tool(
                _first_party(atoms.url, remember(secrets.token_urlsafe(24))),
                "echo",
                {"text": "2"},
                principal=ALICE,
                timeout_s=10,
            )
        after = await pool.call_tool(
            _first_party(atoms.url, good), "echo", {"text": "3"}, principal=ALICE, timeout_s=10
        )
    finally:
        await pool.close()

    assert (before.content[0].text, after.content[0].text) == ("atoms says 1", "atoms says 3")


def test_the_agents_auth_cache_holds_tens_of_thousands_of_active_users_for_a_minute() -> None:
    # With the kit's default (10,000 tokens, 30 s), 10,000 users calling within a minute were
    # validated again on every repeat call: the agent's own policy keeps them.
    from atoms_agent.server import AgentServer
    from atoms_agent.settings import load_agent_settings

    settings = load_agent_settings({})
    policy = AgentServer(settings).config.auth_policy
    assert (policy.cache_max_entries, policy.cache_ttl_s) == (50_000, 60.0)
