"""The contracts follow the API guidelines they claim: field behaviours on every request field,
secrets marked `debug_redact`, and pagination fields on the list calls."""

from __future__ import annotations

import pytest
from google.api import field_behavior_pb2
from google.protobuf import descriptor

from atoms.agent.v1 import agent_pb2
from atoms.auth.v1 import auth_pb2

FILES = (auth_pb2.DESCRIPTOR, agent_pb2.DESCRIPTOR)
SECRET_FIELDS = {
    "atoms.auth.v1.ValidateTokenRequest.token",
    "atoms.agent.v1.RegisterMcpServerRequest.bearer_token",
}
LIST_CALLS = ("atoms.agent.v1.AgentService.ListMcpServers", "atoms.agent.v1.AgentService.ListTools")


def _messages() -> list[descriptor.Descriptor]:
    return [message for file in FILES for message in file.message_types_by_name.values()]


def _behaviors(field: descriptor.FieldDescriptor) -> list[int]:
    return list(field.GetOptions().Extensions[field_behavior_pb2.field_behavior])


@pytest.mark.parametrize(
    "message", [m for m in _messages() if m.name.endswith("Request")], ids=lambda message: message.full_name
)
def test_every_request_field_states_its_behavior(message: descriptor.Descriptor) -> None:
    unstated = [field.name for field in message.fields if not _behaviors(field)]
    assert not unstated


def test_the_secrets_and_only_they_are_debug_redact() -> None:
    redacted = {
        field.full_name
        for message in _messages()
        for field in message.fields
        if field.GetOptions().debug_redact
    }
    assert redacted == SECRET_FIELDS


@pytest.mark.parametrize("method", LIST_CALLS)
def test_a_list_call_pages(method: str) -> None:
    service_name, _, method_name = method.rpartition(".")
    rpc = next(
        file.services_by_name[service_name.rpartition(".")[2]].methods_by_name[method_name]
        for file in FILES
        if service_name.rpartition(".")[2] in file.services_by_name
    )
    assert {"page_size", "page_token"} <= set(rpc.input_type.fields_by_name)
    assert "next_page_token" in rpc.output_type.fields_by_name
