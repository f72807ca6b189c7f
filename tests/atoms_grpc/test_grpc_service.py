"""GrpcService: the kit's bootstrap, built and run the way a new service uses it.

The service under test answers `atoms.auth.v1.AuthService/ValidateToken` with the principal
the kit exposed to it; `token` selects a behaviour (slow, relay downstream). The auth service
is real, trusting one internal token.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator, Sequence

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pydantic import SecretStr

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_auth.settings import AuthSettings, InternalTokenSpec
from atoms_grpc import (
    AccessLogInterceptor,
    AuthClient,
    BearerAuthInterceptor,
    GrpcService,
    GrpcServiceConfig,
    RequestIdInterceptor,
    ServicerBinding,
    StatusMappingInterceptor,
    current_principal,
    first_party_channel,
    standard_interceptors,
)
from atoms_grpc.tls_config import TlsConfig
from tests.support.auth_calls import refusal_of
from tests.support.test_ca import TestCertificateAuthority
from tests.support.token_factory import remember

INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))
AUTH_SERVICE = auth_pb2.DESCRIPTOR.services_by_name["AuthService"]
AUDIENCE = "urn:atoms:echo"


class EchoServicer(auth_pb2_grpc.AuthServiceServicer):
    """Answers with the caller's principal; `token="slow"` waits, `token="relay"` calls downstream."""

    def __init__(self, downstream: auth_pb2_grpc.AuthServiceStub | None) -> None:
        self.downstream = downstream
        self.slow_call_started = asyncio.Event()

    async def ValidateToken(self, request, context):
        if request.token == "slow":
            self.slow_call_started.set()
            await asyncio.sleep(0.5)
        if request.token == "relay" and self.downstream is not None:
            return await self.downstream.ValidateToken(auth_pb2.ValidateTokenRequest(), timeout=5)
        return auth_pb2.ValidateTokenResponse(principal=current_principal().to_proto())


class EchoService(GrpcService):
    """A service as a new team writes it: `build()` opens things and binds the servicer."""

    def __init__(
        self,
        config: GrpcServiceConfig,
        *,
        downstream_address: str | None = None,
        auth_client: AuthClient | None = None,
    ) -> None:
        super().__init__(config, auth_client=auth_client)
        self.closed: list[str] = []
        self.servicer: EchoServicer | None = None
        self._downstream_address = downstream_address

    async def build(
        self, resources: contextlib.AsyncExitStack, auth_client: AuthClient
    ) -> Sequence[ServicerBinding]:
        resources.callback(self.closed.append, "opened first")
        resources.callback(self.closed.append, "opened second")
        downstream = None
        if self._downstream_address is not None:
            channel = first_party_channel(self._downstream_address)
            resources.push_async_callback(channel.close)
            downstream = auth_pb2_grpc.AuthServiceStub(channel)
        self.servicer = EchoServicer(downstream)
        return [ServicerBinding(AUTH_SERVICE, auth_pb2_grpc.add_AuthServiceServicer_to_server, self.servicer)]


@pytest.fixture
async def auth_address(start_auth_server) -> str:
    settings = AuthSettings(
        internal_tokens=(InternalTokenSpec(name="notes", token=SecretStr(INTERNAL_TOKEN)),), metrics_port=None
    )
    auth = await start_auth_server(settings)
    return f"127.0.0.1:{auth.port}"


@pytest.fixture
async def start_echo(auth_address: str) -> AsyncIterator:
    started: list[EchoService] = []

    async def start(downstream_address: str | None = None, **config: object) -> EchoService:
        service = EchoService(
            GrpcServiceConfig(name="echo", audience=AUDIENCE, auth_address=auth_address, **config),  # type: ignore[arg-type]
            downstream_address=downstream_address,
        )
        await service.start()
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        await service.stop()


def _metadata(token: str = INTERNAL_TOKEN) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def _echo(service: EchoService, token_field: str = "", metadata=None) -> auth_pb2.Principal:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        reply = await auth_pb2_grpc.AuthServiceStub(channel).ValidateToken(
            auth_pb2.ValidateTokenRequest(token=token_field),
            metadata=_metadata() if metadata is None else metadata,
            timeout=10,
        )
    return reply.principal


async def _health(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
    return reply.status


def test_standard_chain_runs_request_id_access_log_status_mapping_then_auth() -> None:
    chain = standard_interceptors(AuthClient(target="127.0.0.1:1"), audience=AUDIENCE)
    assert [type(interceptor) for interceptor in chain] == [
        RequestIdInterceptor,
        AccessLogInterceptor,
        StatusMappingInterceptor,
        BearerAuthInterceptor,
    ]


@pytest.mark.parametrize(
    "bad",
    [{"name": ""}, {"port": 70000}, {"metrics_port": -1}, {"auth_address": ""}, {"shutdown_grace_s": -1.0}],
    ids=["no name", "port out of range", "metrics port out of range", "no auth service", "negative grace"],
)
def test_config_refuses_a_bad_value_up_front(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        GrpcServiceConfig(**{"name": "echo", "audience": AUDIENCE, **bad})  # type: ignore[arg-type]


async def test_started_service_is_serving_and_handlers_see_the_principal(start_echo) -> None:
    service = await start_echo()
    assert await _health(service.port, "atoms.auth.v1.AuthService") == health_pb2.HealthCheckResponse.SERVING
    assert (await _echo(service)).service_name == "notes"


async def test_rpc_without_a_token_is_unauthenticated_missing_token(start_echo) -> None:
    service = await start_echo()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _echo(service, metadata=())
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, "MISSING_TOKEN")


async def test_reflection_lists_the_service_without_a_token(start_echo) -> None:
    service = await start_echo()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        replies = [reply async for reply in call]
    names = {service.name for service in replies[0].list_services_response.service}
    assert {"atoms.auth.v1.AuthService", "grpc.health.v1.Health"} <= names


async def test_downstream_call_on_a_first_party_channel_acts_as_the_upstream_caller(
    start_echo, auth_address: str
) -> None:
    downstream = await start_echo()
    upstream = await start_echo(downstream_address=f"127.0.0.1:{downstream.port}")
    principal = await _echo(upstream, token_field="relay")
    assert principal.service_name == "notes"  # the downstream authenticated the upstream caller's token


async def test_metrics_endpoint_counts_the_services_rpcs(start_echo) -> None:
    service = await start_echo(metrics_port=0)
    await _echo(service)
    async with httpx.AsyncClient(timeout=5) as http:
        exposition = (await http.get(f"http://127.0.0.1:{service.metrics_port}/metrics")).text
    assert 'grpc_code="OK",grpc_method="ValidateToken",grpc_service="atoms.auth.v1.AuthService"' in exposition


async def test_stop_drains_an_in_flight_rpc_then_closes_what_build_opened_in_reverse(start_echo) -> None:
    service = await start_echo(shutdown_grace_s=5.0)
    in_flight = asyncio.ensure_future(_echo(service, token_field="slow"))
    assert service.servicer is not None
    await asyncio.wait_for(service.servicer.slow_call_started.wait(), timeout=5)
    await service.stop()
    assert (await in_flight).service_name == "notes"
    assert service.closed == ["opened second", "opened first"]


async def test_stopped_service_refuses_new_calls(start_echo) -> None:
    service = await start_echo()
    await service.stop()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _echo(service)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_failed_start_closes_what_build_already_opened(auth_address: str) -> None:
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        service = EchoService(
            GrpcServiceConfig(
                name="echo", audience=AUDIENCE, port=busy.getsockname()[1], auth_address=auth_address
            )
        )
        with pytest.raises(RuntimeError, match="cannot listen"):
            await service.start()
    assert service.closed == ["opened second", "opened first"]


async def test_service_starts_only_once(start_echo) -> None:
    service = await start_echo()
    with pytest.raises(RuntimeError, match="only once"):
        await service.start()


async def test_service_configured_with_tls_serves_tls_only(auth_address: str, tmp_path) -> None:
    ca = TestCertificateAuthority(tmp_path)
    server_tls = TlsConfig.from_environment(ca.issue("echo").environment())
    auth_client = AuthClient(target=auth_address)  # the test's auth service speaks plaintext
    service = EchoService(
        GrpcServiceConfig(name="echo", audience=AUDIENCE, tls=server_tls), auth_client=auth_client
    )
    await service.start()
    try:
        client_tls = TlsConfig.from_environment({"ATOMS_TLS_CA_FILE": str(ca.ca_file)})
        credentials = client_tls.channel_credentials()
        assert credentials is not None
        async with grpc.aio.secure_channel(f"127.0.0.1:{service.port}", credentials) as channel:
            reply = await auth_pb2_grpc.AuthServiceStub(channel).ValidateToken(
                auth_pb2.ValidateTokenRequest(), metadata=_metadata(), timeout=10
            )
        assert reply.principal.service_name == "notes"
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _echo(service)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await service.stop()
        await auth_client.close()
