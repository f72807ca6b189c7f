"""The MCP session pool's metrics follow its state: sessions open and leased, and sessions retired
by reason; a closed pool takes back all it added to the gauges.

The servers are real FastMCP servers that play pre-2026 MCP, so every principal gets a stateful
session. The registry is process-wide, so each test reads what changed while it ran.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest
from prometheus_client import REGISTRY

from atoms_agent.errors import McpUnauthenticatedError
from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_agent.mcp_registry import ServerScope
from atoms_agent.mcp_session_pool import McpSessionPool
from atoms_grpc.principal import Principal, PrincipalKind
from tests.support.stateful_mcp_servers import held_server, notes_server
from tests.support.token_factory import remember

SESSIONS = "atoms_agent_mcp_sessions"
EVICTIONS = "atoms_agent_mcp_session_evictions_total"
REASONS = ("idle", "expired", "capacity", "refused", "failed")


def _principal(subject: str) -> Principal:
    return Principal(kind=PrincipalKind.USER, subject=subject, issuer="https://issuer.test", org_id="org_a")


ALICE, BOB = _principal("user_alice"), _principal("user_bob")


def _registered(name: str, url: str, headers: dict[str, str] | None = None) -> ComposedMcpServer:
    return ComposedMcpServer(
        name=name,
        url=url,
        scope=ServerScope.USER,
        first_party=False,
        forwards_user_token=False,
        headers=headers or {},
    )


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class _Baseline:
    """The metrics when the test started; the test asserts on what changed."""

    def __init__(self) -> None:
        self._open, self._leased = _value(SESSIONS, state="open"), _value(SESSIONS, state="leased")
        self._evictions = {reason: _value(EVICTIONS, reason=reason) for reason in REASONS}

    def sessions(self) -> tuple[float, float]:
        """(open, leased) added since the start."""
        return (
            _value(SESSIONS, state="open") - self._open,
            _value(SESSIONS, state="leased") - self._leased,
        )

    def evictions(self) -> dict[str, float]:
        """The reasons counted since the start, by how many."""
        now = {reason: _value(EVICTIONS, reason=reason) for reason in REASONS}
        return {
            reason: now[reason] - self._evictions[reason]
            for reason in REASONS
            if now[reason] != self._evictions[reason]
        }


@pytest.fixture
def baseline() -> _Baseline:
    return _Baseline()


async def test_two_principals_have_two_open_sessions_none_leased_between_calls(
    recording_mcp_factory, baseline: _Baseline
) -> None:
    notes = await recording_mcp_factory("notes", server_app=notes_server(), stateless=False, legacy_only=True)
    server = _registered("notes", notes.url)
    pool = McpSessionPool(idle_s=60, max_entries=10, request_timeout_s=10)
    try:
        for principal in (ALICE, BOB, ALICE):
            await pool.call_tool(server, "recall", {}, principal=principal, timeout_s=10)
        during = baseline.sessions()
    finally:
        await pool.close()

    assert during == (2, 0)
    assert baseline.sessions() == (0, 0)
    assert baseline.evictions() == {}  # closing the pool evicts nothing


async def test_a_session_a_running_call_holds_is_leased_until_the_call_ends(
    recording_mcp_factory, baseline: _Baseline
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    held = await recording_mcp_factory(
        "held", server_app=held_server(entered, release), stateless=False, legacy_only=True
    )
    server = _registered("held", held.url)
    pool = McpSessionPool(idle_s=60, max_entries=10, request_timeout_s=10)
    try:
        running = asyncio.ensure_future(pool.call_tool(server, "hold", {}, principal=ALICE, timeout_s=10))
        await asyncio.wait_for(entered.wait(), timeout=10)
        while_held = baseline.sessions()
        release.set()
        await running
        after_the_call = baseline.sessions()
    finally:
        release.set()
        await pool.close()

    assert while_held == (1, 1)
    assert after_the_call == (1, 0)
    assert baseline.sessions() == (0, 0)


async def test_a_full_pool_evicts_the_least_recently_used_session_for_capacity(
    recording_mcp_factory, baseline: _Baseline
) -> None:
    notes = await recording_mcp_factory("notes", server_app=notes_server(), stateless=False, legacy_only=True)
    server = _registered("notes", notes.url)
    pool = McpSessionPool(idle_s=60, max_entries=1, request_timeout_s=10)
    try:
        for principal in (ALICE, BOB):
            await pool.call_tool(server, "recall", {}, principal=principal, timeout_s=10)
        during = baseline.sessions()
    finally:
        await pool.close()

    assert during == (1, 0)
    assert baseline.evictions() == {"capacity": 1}


async def test_reaping_an_idle_session_counts_it_idle_and_closes_it(
    recording_mcp_factory, baseline: _Baseline
) -> None:
    notes = await recording_mcp_factory("notes", server_app=notes_server(), stateless=False, legacy_only=True)
    server = _registered("notes", notes.url)
    pool = McpSessionPool(idle_s=0.0, max_entries=10, request_timeout_s=10)
    try:
        await pool.call_tool(server, "recall", {}, principal=ALICE, timeout_s=10)
        reaped = await pool.reap()
        after_reaping = baseline.sessions()
    finally:
        await pool.close()

    assert reaped == 1
    assert after_reaping == (0, 0)
    assert baseline.evictions() == {"idle": 1}


async def test_a_session_whose_server_refuses_a_calls_credentials_is_retired_as_refused(
    recording_mcp_factory, baseline: _Baseline
) -> None:
    good = remember(secrets.token_urlsafe(24))
    atoms = await recording_mcp_factory("atoms", required_bearer=good)
    pool = McpSessionPool(idle_s=60, max_entries=10, request_timeout_s=10)
    try:
        await pool.call_tool(
            _registered("atoms", atoms.url, {"Authorization": f"Bearer {good}"}),
            "echo",
            {"text": "1"},
            principal=ALICE,
            timeout_s=10,
        )
        stale = remember(secrets.token_urlsafe(24))
        with pytest.raises(McpUnauthenticatedError):
            await pool.call_tool(
                _registered("atoms", atoms.url, {"Authorization": f"Bearer {stale}"}),
                "echo",
                {"text": "2"},
                principal=ALICE,
                timeout_s=10,
            )
        after_refusal = baseline.sessions()
    finally:
        await pool.close()

    assert after_refusal == (0, 0)
    assert baseline.evictions() == {"refused": 1}


async def test_a_stateless_first_party_server_holds_no_session(
    recording_mcp_factory, baseline: _Baseline
) -> None:
    atoms = await recording_mcp_factory("atoms")
    server = ComposedMcpServer(
        name="atoms", url=atoms.url, scope=ServerScope.SYSTEM, first_party=True, forwards_user_token=False
    )
    pool = McpSessionPool(
        idle_s=60, max_entries=10, request_timeout_s=10, stateless_first_party=frozenset({"atoms"})
    )
    try:
        for principal in (ALICE, BOB):
            await pool.call_tool(server, "echo", {"text": "x"}, principal=principal, timeout_s=10)
        during = baseline.sessions()
    finally:
        await pool.close()

    assert during == (0, 0)
