"""The notes service with only the kit installed: authentication, organization scope, the
caller's token forwarded to the agent, and clean refusals."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from notes_service.stubs import notes_pb2

NOTES_AUDIENCE = "urn:atoms:notes"  # NotesSettings.audience's default


def _reason(err: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(err)
    assert status is not None, err.details()
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return info.reason


async def test_a_note_is_stored_and_listed_in_the_callers_organization_only(notes) -> None:
    created = await notes.stub.CreateNote(
        notes_pb2.CreateNoteRequest(title="Apollo", body="launch"), metadata=notes.as_user("token-ada")
    )
    assert (created.note.title, created.note.author) == ("Apollo", "user_ada")
    acme = await notes.stub.ListNotes(notes_pb2.ListNotesRequest(), metadata=notes.as_user("token-ada"))
    globex = await notes.stub.ListNotes(notes_pb2.ListNotesRequest(), metadata=notes.as_user("token-hedy"))
    assert [note.title for note in acme.notes] == ["Apollo"]
    assert list(globex.notes) == []


async def test_the_service_asks_the_auth_service_with_its_own_audience(notes) -> None:
    await notes.stub.ListNotes(notes_pb2.ListNotesRequest(), metadata=notes.as_user("token-ada"))
    assert notes.auth.audiences == [NOTES_AUDIENCE]


async def test_whoami_reaches_the_agent_with_the_callers_own_token(notes) -> None:
    reply = await notes.stub.WhoAmI(notes_pb2.WhoAmIRequest(), metadata=notes.as_user("token-hedy"))
    assert (reply.subject, reply.org_id) == ("user_hedy", "org_globex")
    assert (reply.atoms_mcp_subject, reply.atoms_mcp_org_id) == ("user_hedy", "org_globex")
    assert notes.agent.authorizations == ["Bearer token-hedy"]


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        pytest.param((), "MISSING_TOKEN", id="no token"),
        pytest.param((("authorization", "Bearer token-nobody"),), "INVALID_SIGNATURE", id="a refused token"),
        pytest.param((("authorization", "Basic abc"),), "MALFORMED_TOKEN", id="not a bearer token"),
    ],
)
async def test_a_caller_without_a_valid_token_is_refused_with_a_reason(notes, metadata, reason) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await notes.stub.ListNotes(notes_pb2.ListNotesRequest(), metadata=metadata)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert _reason(refused.value) == reason
    assert notes.agent.authorizations == []


async def test_a_user_outside_any_organization_is_refused_with_a_reason(notes) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await notes.stub.CreateNote(
            notes_pb2.CreateNoteRequest(title="x", body="y"), metadata=notes.as_user("token-solo")
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert _reason(refused.value) == "ORGANIZATION_REQUIRED"
