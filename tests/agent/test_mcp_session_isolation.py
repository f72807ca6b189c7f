"""MCP sessions and principals: what one caller's session holds never reaches another's call.

The servers here are real FastMCP servers that play pre-2026 MCP (they refuse `server/discover`),
so the agent opens a stateful session with `initialize` and gets an `Mcp-Session-Id`, and a
tool can remember something per session, as many registered servers do.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from atoms.agent.v1 import agent_pb2
from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_agent.mcp_registry import ServerScope
from atoms_agent.mcp_session_pool import McpSessionPool
from atoms_grpc.principal import Principal, PrincipalKind
from tests.conftest import log_lines
from tests.support.stateful_mcp_servers import held_server, notes_server, struct_args

# The test's own MCP server runs in this process; what it logs is not the agent's doing.
_TEST_SERVER_LOGGERS = frozenset(
    {
        "mcp.server.streamable_http",
        "mcp.server.streamable_http_manager",
        "mcp.server.lowlevel.server",
        "uvicorn.error",
        "uvicorn.access",
        "sse_starlette.sse",
    }
)


async def _call(stack, token: str, server: str, tool: str, **arguments: object) -> agent_pb2.CallToolResponse:
    return await stack.stub.CallTool(
        agent_pb2.CallToolRequest(server_name=server, tool_name=tool, arguments=struct_args(**arguments)),
        metadata=stack.metadata(token),
        timeout=10,
    )


async def _register(stack, token: str, name: str, url: str) -> None:
    await stack.stub.RegisterMcpServer(
        agent_pb2.RegisterMcpServerRequest(name=name, url=url, scope=agent_pb2.MCP_SERVER_SCOPE_USER),
        metadata=stack.metadata(token),
        timeout=10,
    )


async def test_a_registered_servers_session_state_never_reaches_a_user_of_another_org(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory()
    notes = await recording_mcp_factory("notes", server_app=notes_server(), stateless=False, legacy_only=True)
    alice, bob = stack.token("user_alice", org_id="org_a"), stack.token("user_bob", org_id="org_b")
    for token in (alice, bob):
        await _register(stack, token, "notes", notes.url)

    await _call(stack, alice, "notes", "remember", note="alice's launch codes")
    bobs = await _call(stack, bob, "notes", "recall")
    alices = await _call(stack, alice, "notes", "recall")

    assert alices.content[0].text == "alice's launch codes"  # the server does keep state per session
    assert bobs.content[0].text == "nothing remembered"
    assert len(set(notes.session_ids)) == 2


async def test_two_users_of_one_org_get_their_own_sessions_on_an_org_server(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory()
    notes = await recording_mcp_factory("notes", server_app=notes_server(), stateless=False, legacy_only=True)
    admin = stack.token("user_admin", role="admin")
    member = stack.token("user_member")
    await stack.stub.RegisterMcpServer(
        agent_pb2.RegisterMcpServerRequest(
            name="notes", url=notes.url, scope=agent_pb2.MCP_SERVER_SCOPE_ORGANIZATION
        ),
        metadata=stack.metadata(admin),
        timeout=10,
    )

    await _call(stack, admin, "notes", "remember", note="the admin's note")
    members = await _call(stack, member, "notes", "recall")

    assert members.content[0].text == "nothing remembered"


async def test_downstream_mcp_session_ids_never_reach_the_logs(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory()
    notes = await recording_mcp_factory("notes", server_app=notes_server(), stateless=False, legacy_only=True)
    token = stack.token()
    await _register(stack, token, "notes", notes.url)
    start = len(log_lines())

    await _call(stack, token, "notes", "remember", note="x")
    await _call(stack, token, "notes", "recall")

    assert notes.session_ids, "the server handed out no session id: the test would prove nothing"
    agent_side = [
        line for line in log_lines()[start:] if json.loads(line)["logger"] not in _TEST_SERVER_LOGGERS
    ]
    leaked = [line for line in agent_side for sid in notes.session_ids if sid in line]
    assert not leaked, f"a session id was logged: {leaked[0][:300]}"


async def test_evicting_the_least_recently_used_session_never_breaks_a_running_call(
    agent_stack_factory, recording_mcp_factory
) -> None:
    stack = await agent_stack_factory(mcp_session_max_entries=1)
    entered, release = asyncio.Event(), asyncio.Event()
    held = await recording_mcp_factory("held", server_app=held_server(entered, release))
    alice, bob = stack.token("user_alice"), stack.token("user_bob")
    await _register(stack, alice, "held", held.url)
    running = asyncio.ensure_future(_call(stack, alice, "held", "hold"))
    try:
        await asyncio.wait_for(entered.wait(), timeout=10)
        await _call(stack, bob, "atoms", "echo", text="pushes alice's session out of the full pool")
    finally:
        release.set()
    result = await running

    assert not result.is_error
    assert result.content[0].text == "released"


def _principal(subject: str) -> Principal:
    return Principal(kind=PrincipalKind.USER, subject=subject, issuer="https://issuer.test", org_id="org_a")


async def test_reaping_idle_sessions_never_closes_one_a_call_still_holds(recording_mcp_factory) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    held = await recording_mcp_factory("held", server_app=held_server(entered, release))
    server = ComposedMcpServer(
        name="held", url=held.url, scope=ServerScope.USER, first_party=False, forwards_user_token=False
    )
    pool = McpSessionPool(idle_s=0.0, max_entries=10, request_timeout_s=10.0)
    try:
        running = asyncio.ensure_future(
            pool.call_tool(server, "hold", {}, principal=_principal("user_alice"), timeout_s=10)
        )
        await asyncio.wait_for(entered.wait(), timeout=10)
        await pool.reap()
        release.set()
        result = await running
    finally:
        release.set()
        await pool.close()

    assert not result.is_error
    assert result.content[0].text == "released"


@pytest.mark.parametrize("stateless", [True, False], ids=["listed-stateless", "listed-stateful"])
async def test_every_call_to_a_first_party_server_carries_its_own_callers_token(
    agent_stack_factory, stateless: bool
) -> None:
    stack = await agent_stack_factory(first_party_stateless=stateless)
    alice, bob = stack.token("user_alice"), stack.token("user_bob")
    for token in (alice, bob, alice, bob):
        await _call(stack, token, "atoms", "echo", text="x")

    calls = [sent.authorization for sent in stack.first_party.requests if sent.method == "tools/call"]
    assert calls == [f"Bearer {alice}", f"Bearer {bob}", f"Bearer {alice}", f"Bearer {bob}"]
    # Listed stateless: one protocol discovery for the server, no session per user; otherwise one per user.
    assert stack.first_party.handshakes == (1 if stateless else 2)


@pytest.mark.parametrize(
    ("stateless_names", "handshakes"),
    [(frozenset(), 2), (frozenset({"docs"}), 1)],
    ids=["not listed stateless: one session per principal", "listed stateless: shared"],
)
async def test_only_a_first_party_server_listed_stateless_shares_a_session_between_principals(
    recording_mcp_factory, stateless_names: frozenset[str], handshakes: int
) -> None:
    docs = await recording_mcp_factory("docs")
    server = ComposedMcpServer(
        name="docs", url=docs.url, scope=ServerScope.SYSTEM, first_party=True, forwards_user_token=False
    )
    pool = McpSessionPool(
        idle_s=60.0, max_entries=10, request_timeout_s=10.0, stateless_first_party=stateless_names
    )
    try:
        for subject in ("user_alice", "user_bob"):
            await pool.call_tool(server, "echo", {"text": "x"}, principal=_principal(subject), timeout_s=10)
    finally:
        await pool.close()

    assert docs.handshakes == handshakes
