"""NotesServicer: `notes.v1.NotesService` on the wire; proto <-> store translation only.

The caller is always `current_principal()`, set by the kit's BearerAuthInterceptor.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import json_format

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms_grpc import Principal, RemoteServiceError, current_principal
from notes_service.errors import AtomsToolError, OrganizationRequiredError
from notes_service.note_store import Note, NoteStore
from notes_service.stubs import notes_pb2, notes_pb2_grpc


class NotesServicer(notes_pb2_grpc.NotesServiceServicer):
    """The notes RPCs for the authenticated caller."""

    def __init__(
        self, *, store: NoteStore, agent: agent_pb2_grpc.AgentServiceStub, agent_timeout_s: float
    ) -> None:
        self._store, self._agent, self._agent_timeout_s = store, agent, agent_timeout_s

    async def CreateNote(
        self, request: notes_pb2.CreateNoteRequest, context: grpc.aio.ServicerContext
    ) -> notes_pb2.CreateNoteResponse:
        """Store a note in the caller's organization."""
        principal = current_principal()
        note = await self._store.create(
            _org_of(principal), author=principal.subject, title=request.title, body=request.body
        )
        return notes_pb2.CreateNoteResponse(note=_note_to_proto(note))

    async def ListNotes(
        self, request: notes_pb2.ListNotesRequest, context: grpc.aio.ServicerContext
    ) -> notes_pb2.ListNotesResponse:
        """The caller's organization's notes, newest first."""
        notes = await self._store.list_recent(_org_of(current_principal()), page_size=request.page_size)
        return notes_pb2.ListNotesResponse(notes=[_note_to_proto(note) for note in notes])

    async def WhoAmI(
        self, request: notes_pb2.WhoAmIRequest, context: grpc.aio.ServicerContext
    ) -> notes_pb2.WhoAmIResponse:
        """The caller as seen here and by the Atoms MCP, reached through the agent as the caller."""
        principal = current_principal()
        seen = await self._atoms_whoami(context)
        return notes_pb2.WhoAmIResponse(
            subject=principal.subject,
            org_id=principal.org_id,
            atoms_mcp_subject=str(seen.get("subject", "")),
            atoms_mcp_org_id=str(seen.get("org_id", "")),
        )

    async def _atoms_whoami(self, context: grpc.aio.ServicerContext) -> dict[str, Any]:
        # No token here: the agent channel, a first_party_channel(), adds the caller's own.
        request = agent_pb2.CallToolRequest(server_name="atoms", tool_name="whoami")
        remaining = context.time_remaining()
        timeout = self._agent_timeout_s if remaining is None else min(remaining, self._agent_timeout_s)
        try:
            reply = await self._agent.CallTool(request, timeout=timeout)
        except grpc.aio.AioRpcError as err:
            # The agent's own status (UNAUTHENTICATED for a refused token, say) reaches our caller.
            raise RemoteServiceError.from_rpc_error(err, default_reason=f"AGENT_{err.code().name}") from err
        if reply.is_error or not reply.HasField("structured_content"):
            raise AtomsToolError("the Atoms MCP whoami tool returned no identity")
        return json_format.MessageToDict(reply.structured_content)


def _org_of(principal: Principal) -> str:
    if not principal.org_id:
        raise OrganizationRequiredError("notes belong to an organization; sign in to one")
    return principal.org_id


def _note_to_proto(note: Note) -> notes_pb2.Note:
    message = notes_pb2.Note(note_id=note.note_id, title=note.title, body=note.body, author=note.author)
    message.create_time.FromDatetime(note.create_time)
    return message
