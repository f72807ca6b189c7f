"""NotesServer: the notes service assembled by the kit's GrpcService.

`build()` opens the store and a first-party channel to the agent (its calls carry the
caller's token) and binds the servicer; the kit adds authentication, health, reflection,
metrics and the graceful stop, and closes the channel and the store in reverse order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from atoms.agent.v1 import agent_pb2_grpc
from atoms_grpc import AuthClient, GrpcService, ServicerBinding, first_party_channel
from notes_service.note_store import NoteStore
from notes_service.servicer import NotesServicer
from notes_service.settings import NotesSettings
from notes_service.stubs import NOTES_SERVICE, notes_pb2_grpc


class NotesServer(GrpcService):
    """The running notes service."""

    def __init__(self, settings: NotesSettings, *, auth_client: AuthClient | None = None) -> None:
        super().__init__(settings.grpc_service_config(), auth_client=auth_client)
        self.settings = settings

    async def build(
        self, resources: contextlib.AsyncExitStack, auth_client: AuthClient
    ) -> Sequence[ServicerBinding]:
        """Open the store and the agent channel; bind the servicer."""
        store = await NoteStore.open(self.settings.database_url.get_secret_value())
        resources.push_async_callback(store.close)
        # The agent is first-party, so this channel may carry the caller's token. Never open
        # one like it to a service outside Atoms.
        agent_channel = first_party_channel(self.settings.agent_address)
        resources.push_async_callback(agent_channel.close)
        servicer = NotesServicer(
            store=store,
            agent=agent_pb2_grpc.AgentServiceStub(agent_channel),
            agent_timeout_s=self.settings.agent_timeout_s,
        )
        return [ServicerBinding(NOTES_SERVICE, notes_pb2_grpc.add_NotesServiceServicer_to_server, servicer)]
