"""AgentServer: builds the agent from its settings, runs its gRPC and HTTP faces, stops gracefully.

Construction order (reverse on stop): auth client -> registry -> session pool -> model
client -> gRPC host -> HTTP face -> metrics endpoint.
"""

from __future__ import annotations

import contextlib
import logging

import httpx

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from services.agent.chat_session import ChatSession
from services.agent.http_api import build_http_app
from services.agent.mcp_composition import McpComposer
from services.agent.mcp_registry import McpRegistry
from services.agent.mcp_session_pool import McpSessionPool
from services.agent.model_client import ModelClient
from services.agent.servicer import AgentServicer
from services.agent.settings import AgentSettings
from services.agent.tool_gateway import ToolGateway
from services.atoms_grpc.access_log_interceptor import AccessLogInterceptor
from services.atoms_grpc.auth_client import AuthClient
from services.atoms_grpc.auth_interceptor import BearerAuthInterceptor
from services.atoms_grpc.embedded_http_server import EmbeddedHttpServer
from services.atoms_grpc.grpc_service_host import GrpcServiceHost
from services.atoms_grpc.request_id_interceptor import RequestIdInterceptor
from services.atoms_grpc.service_metrics import MetricsEndpoint
from services.atoms_grpc.service_runner import run_until_signalled
from services.atoms_grpc.status_mapping import StatusMappingInterceptor

logger = logging.getLogger(__name__)

AGENT_SERVICE_NAME = agent_pb2.DESCRIPTOR.services_by_name["AgentService"].full_name


class AgentServer:
    """One running agent: gRPC on `port`, HTTP on `http_port`."""

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self.port: int | None = None
        self.http_port: int | None = None
        self.metrics_port: int | None = None
        self._stack = contextlib.AsyncExitStack()
        self._http_face: EmbeddedHttpServer | None = None
        self._host: GrpcServiceHost | None = None

    async def start(self) -> int:
        """Open the registry, start both faces; return the gRPC port.

        Raises:
            RuntimeError: a port could not be bound.
        """
        settings = self.settings
        stack = self._stack
        auth_client = AuthClient(target=settings.auth_address)
        stack.push_async_callback(auth_client.close)
        registry = await McpRegistry.open(settings.database_url)
        stack.push_async_callback(registry.close)
        pool = McpSessionPool(
            idle_s=settings.mcp_session_idle_s,
            max_entries=settings.mcp_session_max_entries,
            request_timeout_s=settings.mcp_call_timeout_s,
        )
        stack.push_async_callback(pool.close)
        composer = McpComposer(
            first_party=settings.first_party_mcps,
            allowed_origins=settings.first_party_origins,
            registry=registry,
        )
        gateway = ToolGateway(composer=composer, pool=pool)
        chat = ChatSession(gateway=gateway, model_client=await self._model_client())
        servicer = AgentServicer(
            settings=settings, registry=registry, composer=composer, gateway=gateway, chat=chat
        )
        self._host = GrpcServiceHost(
            service_names=[AGENT_SERVICE_NAME],
            registrations=[
                lambda server: agent_pb2_grpc.add_AgentServiceServicer_to_server(servicer, server)
            ],
            interceptors=(
                RequestIdInterceptor(),  # outermost: every later log line carries the id
                AccessLogInterceptor(),  # sees the final status, including auth refusals
                StatusMappingInterceptor(),  # the only place exceptions become statuses
                BearerAuthInterceptor(auth_client),  # innermost: handlers always have a principal
            ),
        )
        self.port = await self._host.start(f"{settings.host}:{settings.port}")
        if settings.http_port is not None:
            http_face = EmbeddedHttpServer(
                build_http_app(auth_client=auth_client, chat=chat, timeout_s=settings.mcp_call_timeout_s),
                host=settings.host,
                port=settings.http_port,
                grace_s=settings.shutdown_grace_s,
            )
            self.http_port = await http_face.start()
            self._http_face = http_face
        if settings.metrics_port is not None:
            metrics = MetricsEndpoint(host=settings.host, port=settings.metrics_port)
            self.metrics_port = metrics.start()
            stack.callback(metrics.stop)
        await self._host.set_serving(True)
        logger.info(
            "agent service started: %d first-party MCP server(s), model %s",
            len(settings.first_party_mcps),
            settings.model.model if settings.model else "not configured",
            extra={"grpc_port": self.port, "http_port": self.http_port},
        )
        return self.port

    async def stop(self) -> None:
        """NOT_SERVING, drain gRPC and HTTP, then close pools, registry and clients."""
        if self._host is not None:
            await self._host.stop(self.settings.shutdown_grace_s)
        if self._http_face is not None:
            await self._http_face.stop()
        await self._stack.aclose()

    async def _model_client(self) -> ModelClient | None:
        if self.settings.model is None:
            return None
        http = httpx.AsyncClient(follow_redirects=False, limits=httpx.Limits(max_connections=50))
        self._stack.push_async_callback(http.aclose)
        return ModelClient(endpoint=self.settings.model, http_client=http)


async def serve(settings: AgentSettings) -> None:
    """Run the agent until SIGINT or SIGTERM, then stop gracefully."""
    await run_until_signalled(AgentServer(settings), name="agent service", grace_s=settings.shutdown_grace_s)
