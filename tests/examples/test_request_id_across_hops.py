"""One request id across every hop of one call: notes -> agent -> Atoms MCP -> auth service.

The caller sends `x-request-id` to the notes service; its WhoAmI calls the agent, which calls
the Atoms MCP's `whoami` tool, which asks the auth service about the token. Every hop's log
lines for that call carry the caller's id, the MCP's (HTTP) included.
"""

from __future__ import annotations

import json

import pytest

from notes_service.stubs import notes_pb2
from tests.conftest import log_lines
from tests.examples.conftest import NotesStack

pytestmark = pytest.mark.asyncio(loop_scope="module")

REQUEST_ID = "req-across-hops-0001"


async def test_the_callers_request_id_reaches_the_agent_the_mcp_and_the_auth_service(
    notes_stack: NotesStack,
) -> None:
    start = len(log_lines())
    reply = await notes_stack.stub.WhoAmI(
        notes_pb2.WhoAmIRequest(),
        metadata=notes_stack.metadata(notes_stack.token(), ("x-request-id", REQUEST_ID)),
        timeout=30,
    )
    assert reply.atoms_mcp_subject == "user_ada"
    lines = [json.loads(line) for line in log_lines()[start:] if line.startswith("{")]
    with_id = [line for line in lines if line.get("request_id") == REQUEST_ID]
    methods = {line.get("rpc_method") for line in with_id}
    assert "/notes.v1.NotesService/WhoAmI" in methods
    assert "/atoms.agent.v1.AgentService/CallTool" in methods
    assert "/atoms.auth.v1.AuthService/ValidateToken" in methods
    mcp_access = [line for line in with_id if line["logger"] == "atoms_grpc.http_access"]
    # One request for the call, after the stateless caller's first `server/discover` (if not done yet).
    assert 1 <= len(mcp_access) <= 2
    assert {line["message"] for line in mcp_access} == {"POST /api/mcp 200"}
