"""AgentServer: builds the agent from its settings, runs its gRPC and HTTP faces, stops gracefully.

The kit's `GrpcService` provides the gRPC side (auth client, interceptor chain, health,
reflection, metrics, graceful stop). Construction order (reverse on stop): auth client ->
registry -> session pool -> model client -> gRPC host -> metrics endpoint -> HTTP face.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Sequence

import httpx
from starlette.applications import Starlette

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms_agent.chat_session import ChatSession
from atoms_agent.egress_guard import EgressGuard, HostResolver, resolve_with_system
from atoms_agent.egress_policy import EgressPolicy
from atoms_agent.guarded_transport import RegisteredServerTransports
from atoms_agent.http_api import build_http_app
from atoms_agent.mcp_client_limits import McpClientLimits
from atoms_agent.mcp_composition import McpComposer
from atoms_agent.mcp_registry import McpRegistry
from atoms_agent.mcp_session_pool import McpSessionPool
from atoms_agent.model_client import ModelClient
from atoms_agent.servicer import AgentServicer
from atoms_agent.settings import AgentSettings
from atoms_agent.tool_gateway import ToolGateway
from atoms_agent.visible_servers_cache import VisibleServersCache
from atoms_grpc.auth_client import AuthClient, AuthClientPolicy
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from atoms_grpc.grpc_service import (
    GrpcService,
    GrpcServiceConfig,
    ServicerBinding,
    serve_grpc_service,
)
from atoms_grpc.tracing import instrument_httpx_client

logger = logging.getLogger(__name__)

AGENT_SERVICE = agent_pb2.DESCRIPTOR.services_by_name["AgentService"]
AGENT_SERVICE_NAME = AGENT_SERVICE.full_name


class AgentServer(GrpcService):
    """One running agent: gRPC on `port`, HTTP on `http_port`."""

    def __init__(self, settings: AgentSettings, *, resolver: HostResolver = resolve_with_system) -> None:
        """Args:
        settings: the validated settings.
        resolver: name resolution for registered MCP servers (tests inject their own answers).
        """
        super().__init__(
            GrpcServiceConfig(
                name="agent",
                audience=settings.audience,
                host=settings.host,
                port=settings.port,
                auth_address=settings.auth_address,
                auth_policy=dataclasses.replace(
                    AuthClientPolicy(),
                    cache_ttl_s=settings.auth_cache_ttl_s,
                    cache_max_entries=settings.auth_cache_max_entries,
                ),
                auth_health=settings.auth_health,
                metrics_host=settings.host,
                metrics_port=settings.metrics_port,
                shutdown_grace_s=settings.shutdown_grace_s,
                tls=settings.tls,
                auth_caller_token=settings.auth_caller_token,
            )
        )
        self.settings = settings
        self._resolver = resolver
        self.http_port: int | None = None
        self._http_app: Starlette | None = None

    async def build(
        self, resources: contextlib.AsyncExitStack, auth_client: AuthClient
    ) -> Sequence[ServicerBinding]:
        """Open the registry, the MCP session pool and the model client; bind the servicer."""
        settings = self.settings
        registry = await McpRegistry.open(settings.database_url)
        resources.push_async_callback(registry.close)
        egress = EgressGuard(
            policy=EgressPolicy(
                allowed_networks=settings.mcp_egress_allowed_networks,
                allowed_hosts=settings.mcp_egress_allowed_hosts,
                allow_loopback=settings.allow_loopback_mcp,
            ),
            resolver=self._resolver,
            resolve_timeout_s=settings.mcp_resolve_timeout_s,
        )
        pool = McpSessionPool(
            idle_s=settings.mcp_session_idle_s,
            max_entries=settings.mcp_session_max_entries,
            request_timeout_s=settings.mcp_call_timeout_s,
            limits=McpClientLimits(
                max_response_bytes=settings.mcp_max_response_bytes,
                max_tool_pages=settings.mcp_max_tool_pages,
                max_tools_per_server=settings.mcp_max_tools_per_server,
                list_timeout_s=settings.mcp_list_timeout_s,
            ),
            stateless_first_party=frozenset(
                entry.key for entry in settings.first_party_mcps if entry.stateless
            ),
            http_transport_factory=RegisteredServerTransports(egress),
        )
        resources.push_async_callback(pool.close)
        composer = McpComposer(
            first_party=settings.first_party_mcps,
            allowed_origins=settings.first_party_origins,
            registry=VisibleServersCache(
                registry,
                ttl_s=settings.registry_cache_ttl_s,
                max_entries=settings.registry_cache_max_entries,
            ),
        )
        gateway = ToolGateway(composer=composer, pool=pool)
        chat = ChatSession(
            gateway=gateway,
            model_client=self._model_client(resources),
            max_tool_calls_per_turn=settings.chat_max_tool_calls_per_turn,
        )
        if settings.http_port is not None:
            self._http_app = build_http_app(
                auth_client=auth_client,
                audience=settings.audience,
                readiness=self.readiness,
                chat=chat,
                timeout_s=settings.mcp_call_timeout_s,
            )
        servicer = AgentServicer(
            settings=settings,
            registry=registry,
            composer=composer,
            gateway=gateway,
            chat=chat,
            egress=egress,
        )
        return [ServicerBinding(AGENT_SERVICE, agent_pb2_grpc.add_AgentServiceServicer_to_server, servicer)]

    async def started(self, resources: contextlib.AsyncExitStack) -> None:
        """Start the HTTP face once the gRPC port is bound.

        Raises:
            RuntimeError: the HTTP port could not be bound.
        """
        if self._http_app is None:
            return
        http_face = EmbeddedHttpServer(
            self._http_app,
            host=self.settings.host,
            port=self.settings.http_port or 0,
            grace_s=self.settings.shutdown_grace_s,
        )
        self.http_port = await http_face.start()
        resources.push_async_callback(http_face.stop)

    def announce(self) -> None:
        """Log the start with both ports (`make demo` and the e2e tests read them from this line)."""
        logger.info(
            "agent service started: %d first-party MCP server(s), model %s",
            len(self.settings.first_party_mcps),
            self.settings.model.model if self.settings.model else "not configured",
            extra={"grpc_port": self.port, "http_port": self.http_port},
        )

    def _model_client(self, resources: contextlib.AsyncExitStack) -> ModelClient | None:
        if self.settings.model is None:
            return None
        http = httpx.AsyncClient(follow_redirects=False, limits=httpx.Limits(max_connections=50))
        instrument_httpx_client(http)  # with tracing on: a CLIENT span per model request
        resources.push_async_callback(http.aclose)
        return ModelClient(endpoint=self.settings.model, http_client=http)


async def serve(settings: AgentSettings) -> None:
    """Run the agent until SIGINT or SIGTERM, then stop gracefully."""
    await serve_grpc_service(AgentServer(settings))
