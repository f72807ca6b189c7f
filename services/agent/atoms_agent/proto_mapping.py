"""Conversions between the agent's domain values, MCP SDK results and `atoms.agent.v1` messages."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

from atoms.agent.v1 import agent_pb2
from atoms_agent.errors import InvalidRequestError
from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_agent.mcp_registry import AuthType, RegisteredMcpServer, ServerScope
from atoms_agent.url_redaction import redacted_url
from atoms_grpc.first_party_mcps import FirstPartyMcp

MAX_ARGUMENT_BYTES = 64 * 1024

_SCOPE_TO_PROTO = {
    ServerScope.SYSTEM: agent_pb2.MCP_SERVER_SCOPE_SYSTEM,
    ServerScope.ORGANIZATION: agent_pb2.MCP_SERVER_SCOPE_ORGANIZATION,
    ServerScope.USER: agent_pb2.MCP_SERVER_SCOPE_USER,
}
_AUTH_TO_PROTO = {
    AuthType.NONE: agent_pb2.MCP_AUTH_TYPE_NONE,
    AuthType.INTERNAL: agent_pb2.MCP_AUTH_TYPE_INTERNAL,
    AuthType.BEARER: agent_pb2.MCP_AUTH_TYPE_BEARER,
}


def config_to_proto(server: ComposedMcpServer) -> agent_pb2.McpServerConfig:
    """A composed server as a caller may see it: secrets redacted."""
    return agent_pb2.McpServerConfig(
        name=server.name,
        url=server.shown_url(),
        transport=agent_pb2.MCP_TRANSPORT_STREAMABLE_HTTP,
        headers=server.redacted_headers(),
        forwards_user_token=server.forwards_user_token,
        first_party=server.first_party,
        scope=_SCOPE_TO_PROTO[server.scope],
    )


def system_server_to_proto(entry: FirstPartyMcp, *, first_party: bool) -> agent_pb2.McpServer:
    """A first-party list entry as a registry entry."""
    return agent_pb2.McpServer(
        name=entry.key,
        url=entry.url,
        transport=agent_pb2.MCP_TRANSPORT_STREAMABLE_HTTP,
        auth_type=_AUTH_TO_PROTO[AuthType(entry.auth)],
        scope=agent_pb2.MCP_SERVER_SCOPE_SYSTEM,
        enabled=True,
        first_party=first_party,
    )


def registered_server_to_proto(server: RegisteredMcpServer, *, full_url: bool) -> agent_pb2.McpServer:
    """A stored registration, without its credential; its URL redacted unless `full_url`."""
    message = agent_pb2.McpServer(
        id=server.id,
        name=server.name,
        url=server.url if full_url else redacted_url(server.url),
        transport=agent_pb2.MCP_TRANSPORT_STREAMABLE_HTTP,
        auth_type=_AUTH_TO_PROTO[server.auth_type],
        scope=_SCOPE_TO_PROTO[server.scope],
        enabled=server.enabled,
        first_party=False,
    )
    if server.created_at is not None:
        message.create_time.FromDatetime(server.created_at)
    return message


def arguments_from_proto(arguments: struct_pb2.Struct) -> dict[str, Any]:
    """The tool arguments as JSON values.

    Raises:
        InvalidRequestError: the arguments are larger than 64 KiB.
    """
    if arguments.ByteSize() > MAX_ARGUMENT_BYTES:
        raise InvalidRequestError("arguments", f"must be at most {MAX_ARGUMENT_BYTES} bytes")
    return json_format.MessageToDict(arguments)


def struct_from(value: Any) -> struct_pb2.Struct:
    """A JSON object as a Struct (anything else is wrapped as {"result": value})."""
    message = struct_pb2.Struct()
    message.update(value if isinstance(value, dict) else {"result": value})
    return message


def tool_to_proto(server_name: str, tool: Any) -> agent_pb2.Tool:
    """An MCP `Tool` of a server."""
    return agent_pb2.Tool(
        server_name=server_name,
        name=tool.name,
        description=tool.description or "",
        input_schema=struct_from(tool.input_schema or {}),
    )


def tool_result_to_proto(result: Any) -> agent_pb2.CallToolResponse:
    """An MCP `CallToolResult`."""
    response = agent_pb2.CallToolResponse(is_error=bool(result.is_error))
    for item in result.content:
        content = agent_pb2.ToolContent(type=item.type)
        if item.type == "text":
            content.text = item.text
        else:
            content.raw.CopyFrom(struct_from(item.model_dump(mode="json", by_alias=True, exclude_none=True)))
        response.content.append(content)
    if result.structured_content is not None:
        response.structured_content.CopyFrom(struct_from(result.structured_content))
    return response
