"""AgentServicer: `atoms.agent.v1.AgentService` on the wire; proto <-> domain translation only.

The caller is always `current_principal()` (set by the kit's BearerAuthInterceptor from the
`authorization` metadata); no request field names a user or an organization.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms_agent import proto_mapping
from atoms_agent.chat_session import ChatSession, chat_messages_from_proto
from atoms_agent.egress_guard import EgressGuard
from atoms_agent.errors import McpServerNotFoundError
from atoms_agent.mcp_composition import McpComposer
from atoms_agent.mcp_registry import McpRegistry, ServerScope
from atoms_agent.page_tokens import page_request
from atoms_agent.registration_policy import may_manage_org_servers, validate_registration
from atoms_agent.settings import AgentSettings
from atoms_agent.tool_gateway import ToolGateway
from atoms_agent.url_redaction import may_see_full_url
from atoms_grpc.request_context import current_bearer_token, current_principal

# Pages of the list calls (AIP-158 style): the default when page_size is 0, and the most one page holds.
DEFAULT_SERVERS_PAGE, MAX_SERVERS_PAGE = 50, 200
DEFAULT_TOOLS_PAGE, MAX_TOOLS_PAGE = 100, 500


class AgentServicer(agent_pb2_grpc.AgentServiceServicer):
    """The agent's RPCs for the authenticated caller."""

    def __init__(
        self,
        *,
        settings: AgentSettings,
        registry: McpRegistry,
        composer: McpComposer,
        gateway: ToolGateway,
        chat: ChatSession,
        egress: EgressGuard,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._egress = egress
        self._composer = composer
        self._gateway = gateway
        self._chat = chat

    def _timeout_s(self, context: grpc.aio.ServicerContext) -> float:
        remaining = context.time_remaining()
        return (
            self._settings.mcp_call_timeout_s
            if remaining is None
            else min(remaining, self._settings.mcp_call_timeout_s)
        )

    async def ComposeMcpServers(
        self, request: agent_pb2.ComposeMcpServersRequest, context: grpc.aio.ServicerContext
    ) -> agent_pb2.ComposeMcpServersResponse:
        """The caller's server configurations, secrets redacted."""
        servers = await self._gateway.compose(current_principal(), current_bearer_token())
        return agent_pb2.ComposeMcpServersResponse(
            servers=[proto_mapping.config_to_proto(s) for s in servers]
        )

    async def ListMcpServers(
        self, request: agent_pb2.ListMcpServersRequest, context: grpc.aio.ServicerContext
    ) -> agent_pb2.ListMcpServersResponse:
        """System servers and the registrations the caller can see."""
        composed = {s.name: s for s in await self._gateway.compose(current_principal(), "")}
        system = [
            proto_mapping.system_server_to_proto(entry, first_party=composed[entry.key].first_party)
            for entry in self._settings.first_party_mcps
        ]
        page = page_request(
            page_size=request.page_size,
            page_token=request.page_token,
            listing="ListMcpServers",
            default_size=DEFAULT_SERVERS_PAGE,
            max_size=MAX_SERVERS_PAGE,
        )
        principal = current_principal()
        registered = [
            proto_mapping.registered_server_to_proto(server, full_url=may_see_full_url(principal, server))
            for server in await self._registry.list_visible(principal)
        ]
        servers = system + registered
        return agent_pb2.ListMcpServersResponse(
            servers=servers[page.offset : page.slice_end(len(servers))],
            next_page_token=page.next_token(len(servers)),
        )

    async def RegisterMcpServer(
        self, request: agent_pb2.RegisterMcpServerRequest, context: grpc.aio.ServicerContext
    ) -> agent_pb2.RegisterMcpServerResponse:
        """Validate, check where the URL leads, then check the limit and the name and store, atomically."""
        principal = current_principal()
        new_server = validate_registration(
            request,
            principal,
            system_names=self._composer.system_names,
            allow_loopback_http=self._settings.allow_loopback_mcp,
        )
        await self._egress.check_registration(new_server.url)
        limit = (
            self._settings.max_servers_per_user
            if new_server.scope is ServerScope.USER
            else self._settings.max_servers_per_org
        )
        stored = await self._registry.register(principal, new_server, limit=limit)
        return agent_pb2.RegisterMcpServerResponse(
            server=proto_mapping.registered_server_to_proto(stored, full_url=True)
        )

    async def DeleteMcpServer(
        self, request: agent_pb2.DeleteMcpServerRequest, context: grpc.aio.ServicerContext
    ) -> agent_pb2.DeleteMcpServerResponse:
        """Delete a registration the caller may delete; anything else is NOT_FOUND."""
        principal = current_principal()
        deleted = await self._registry.delete(
            principal, request.id, may_manage_org=may_manage_org_servers(principal)
        )
        if not deleted:
            raise McpServerNotFoundError("no MCP server with that id that you may delete")
        return agent_pb2.DeleteMcpServerResponse()

    async def ListTools(
        self, request: agent_pb2.ListToolsRequest, context: grpc.aio.ServicerContext
    ) -> agent_pb2.ListToolsResponse:
        """Tools of one or all servers, concurrently, one page at a time."""
        page = page_request(
            page_size=request.page_size,
            page_token=request.page_token,
            listing=f"ListTools:{request.server_name}",
            default_size=DEFAULT_TOOLS_PAGE,
            max_size=MAX_TOOLS_PAGE,
        )
        listed = await self._gateway.list_tools(
            current_principal(),
            current_bearer_token(),
            server_name=request.server_name,
            timeout_s=self._timeout_s(context),
        )
        tools = [
            proto_mapping.tool_to_proto(entry.server.name, tool) for entry in listed for tool in entry.tools
        ]
        return agent_pb2.ListToolsResponse(
            tools=tools[page.offset : page.slice_end(len(tools))],
            failures=[
                agent_pb2.ServerFailure(server_name=entry.server.name, message=entry.failure)
                for entry in listed
                if entry.failure
            ],
            next_page_token=page.next_token(len(tools)),
        )

    async def CallTool(
        self, request: agent_pb2.CallToolRequest, context: grpc.aio.ServicerContext
    ) -> agent_pb2.CallToolResponse:
        """One tool call through the caller's composed configuration."""
        result = await self._gateway.call_tool(
            current_principal(),
            current_bearer_token(),
            server_name=request.server_name,
            tool_name=request.tool_name,
            arguments=proto_mapping.arguments_from_proto(request.arguments),
            timeout_s=self._timeout_s(context),
        )
        return proto_mapping.tool_result_to_proto(result)

    async def Chat(
        self, request: agent_pb2.ChatRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[agent_pb2.ChatResponse]:
        """Stream the model's answer and the tool calls it makes."""
        messages = chat_messages_from_proto(request.messages)
        async for event in self._chat.run(
            current_principal(),
            current_bearer_token(),
            messages=messages,
            model=request.model,
            timeout_s=self._timeout_s(context),
        ):
            yield event
