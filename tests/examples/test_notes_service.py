"""The notes example service: authentication, organization scoping, the call on the user's behalf."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from notes_service.stubs import notes_pb2
from tests.conftest import log_lines
from tests.examples.conftest import NotesStack
from tests.support.auth_calls import refusal_of
from tests.support.token_factory import remember

pytestmark = pytest.mark.asyncio(loop_scope="module")

GRPCURL = str(Path(sys.executable).parent / "grpcurl")


async def _create(stack: NotesStack, token: str, title: str, body: str = "") -> notes_pb2.Note:
    reply = await stack.stub.CreateNote(
        notes_pb2.CreateNoteRequest(title=title, body=body), metadata=stack.metadata(token), timeout=10
    )
    return reply.note


async def _titles(stack: NotesStack, token: str) -> list[str]:
    reply = await stack.stub.ListNotes(
        notes_pb2.ListNotesRequest(), metadata=stack.metadata(token), timeout=10
    )
    return [note.title for note in reply.notes]


async def _grpcurl(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        GRPCURL, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode or 0, out.decode(), err.decode()


async def test_created_note_is_listed_with_its_author_and_time(notes_stack: NotesStack) -> None:
    token = notes_stack.token("user_lister", "org_listing")
    created = await _create(notes_stack, token, "Ship the kit", "docs first")
    reply = await notes_stack.stub.ListNotes(
        notes_pb2.ListNotesRequest(), metadata=notes_stack.metadata(token), timeout=10
    )
    assert [note.note_id for note in reply.notes] == [created.note_id]
    listed = reply.notes[0]
    assert (listed.title, listed.body, listed.author) == ("Ship the kit", "docs first", "user_lister")
    assert created.note_id.startswith("note_")
    assert listed.create_time.seconds > 0


async def test_notes_are_listed_newest_first(notes_stack: NotesStack) -> None:
    token = notes_stack.token("user_order", "org_order")
    for title in ("first", "second", "third"):
        await _create(notes_stack, token, title)
    assert await _titles(notes_stack, token) == ["third", "second", "first"]


@pytest.mark.parametrize("rpc", ["CreateNote", "ListNotes", "WhoAmI"])
async def test_call_without_a_token_is_unauthenticated_missing_token(
    notes_stack: NotesStack, rpc: str
) -> None:
    requests = {
        "CreateNote": notes_pb2.CreateNoteRequest(title="no token"),
        "ListNotes": notes_pb2.ListNotesRequest(),
        "WhoAmI": notes_pb2.WhoAmIRequest(),
    }
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(notes_stack.stub, rpc)(requests[rpc], timeout=10)
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, "MISSING_TOKEN")


async def test_tampered_token_is_refused_with_the_auth_services_reason(notes_stack: NotesStack) -> None:
    token = notes_stack.token()
    tampered = remember(token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _titles(notes_stack, tampered)
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason, refused.domain) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "INVALID_SIGNATURE",
        "auth.atoms.internal",
    )


async def test_one_organizations_notes_are_invisible_to_another(notes_stack: NotesStack) -> None:
    alpha = notes_stack.token("user_alpha", "org_alpha")
    bravo = notes_stack.token("user_bravo", "org_bravo")
    await _create(notes_stack, alpha, "alpha plans")
    await _create(notes_stack, bravo, "bravo plans")
    assert await _titles(notes_stack, alpha) == ["alpha plans"]
    assert await _titles(notes_stack, bravo) == ["bravo plans"]


async def test_members_of_one_organization_share_its_notes(notes_stack: NotesStack) -> None:
    await _create(notes_stack, notes_stack.token("user_writer", "org_shared"), "for the team")
    assert await _titles(notes_stack, notes_stack.token("user_reader", "org_shared")) == ["for the team"]


async def test_token_without_an_organization_is_permission_denied(notes_stack: NotesStack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _titles(notes_stack, notes_stack.token("user_loner", org_id=None))
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason, refused.domain) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "ORGANIZATION_REQUIRED",
        "notes.atoms.example",
    )


@pytest.mark.parametrize(
    ("title", "body", "field"),
    [("", "", "title"), ("t" * 201, "", "title"), ("fine", "b" * 10_001, "body")],
    ids=["empty title", "title too long", "body too long"],
)
async def test_out_of_bounds_note_is_invalid_argument_naming_the_field(
    notes_stack: NotesStack, title: str, body: str, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _create(notes_stack, notes_stack.token(), title, body)
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason, refused.metadata) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_NOTE",
        {"field": field},
    )


async def test_whoami_reaches_the_atoms_mcp_through_the_agent_as_the_same_user(
    notes_stack: NotesStack,
) -> None:
    token = notes_stack.token("user_whoami", "org_whoami")
    reply = await notes_stack.stub.WhoAmI(
        notes_pb2.WhoAmIRequest(), metadata=notes_stack.metadata(token), timeout=20
    )
    assert (reply.subject, reply.org_id) == ("user_whoami", "org_whoami")
    assert (reply.atoms_mcp_subject, reply.atoms_mcp_org_id) == ("user_whoami", "org_whoami")


async def test_whoami_call_to_the_agent_carries_the_callers_token_and_request_id(
    notes_stack: NotesStack,
) -> None:
    token = notes_stack.token("user_traced", "org_traced")
    seen_before = len(log_lines())
    await notes_stack.stub.WhoAmI(
        notes_pb2.WhoAmIRequest(),
        metadata=notes_stack.metadata(token, ("x-request-id", "req-notes-whoami-1")),
        timeout=20,
    )
    records = [json.loads(line) for line in log_lines()[seen_before:] if line.startswith("{")]
    agent_calls = [r for r in records if r["message"] == "/atoms.agent.v1.AgentService/CallTool OK"]
    assert [(r["subject"], r["request_id"]) for r in agent_calls] == [("user_traced", "req-notes-whoami-1")]


async def test_health_answers_serving_without_a_token(notes_stack: NotesStack) -> None:
    health = health_pb2_grpc.HealthStub(notes_stack.channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service="notes.v1.NotesService"), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_and_describes_the_service_without_a_token(notes_stack: NotesStack) -> None:
    code, listed, err = await _grpcurl("-plaintext", notes_stack.notes_address, "list")
    assert code == 0, err
    assert "notes.v1.NotesService" in listed.split()
    # ghz resolves the method symbol itself through reflection (the kit's method-aware servicer).
    code, described, err = await _grpcurl(
        "-plaintext", notes_stack.notes_address, "describe", "notes.v1.NotesService.CreateNote"
    )
    assert code == 0, err
    assert (
        "rpc CreateNote ( .notes.v1.CreateNoteRequest ) returns ( .notes.v1.CreateNoteResponse )" in described
    )
