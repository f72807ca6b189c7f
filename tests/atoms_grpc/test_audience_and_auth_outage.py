"""The kit's part of hardening: a stated audience, a prompt answer when the auth service is down, readiness.

- `GrpcServiceConfig` cannot be built without the audience the service accepts, and every
  caller's token is validated with it (a token for another resource is INVALID_AUDIENCE).
- With the auth service unreachable, a call with a long deadline fails UNAVAILABLE /
  AUTH_SERVICE_UNAVAILABLE with a `google.rpc.RetryInfo`, not DEADLINE_EXCEEDED.
- Readiness (each service's health name) follows the auth service, liveness ("") does not;
  `AuthServiceMonitor` changes its verdict only after enough checks in a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator, Sequence

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from prometheus_client import REGISTRY
from pydantic import SecretStr

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_auth.server import AuthServer
from atoms_auth.settings import AuthSettings, InternalTokenSpec, TrustedIssuer
from atoms_grpc import (
    AuthClient,
    AuthClientPolicy,
    AuthHealthPolicy,
    AuthServiceHealth,
    AuthServiceMonitor,
    AuthServiceUnavailableError,
    BearerAuthInterceptor,
    GrpcService,
    GrpcServiceConfig,
    ServicerBinding,
    current_principal,
    standard_interceptors,
)
from tests.support.auth_calls import refusal_of
from tests.support.jwks_server import JwksEndpoint
from tests.support.loopback_http import serving_asgi
from tests.support.token_factory import mint, new_rsa_key, remember

INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))
AUDIENCE = "urn:atoms:echo"
ECHO = auth_pb2.DESCRIPTOR.services_by_name["AuthService"]
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
FAST_CHECKS = AuthHealthPolicy(interval_s=0.05, timeout_s=0.5)
_WAIT_S = 20.0


class PrincipalEcho(auth_pb2_grpc.AuthServiceServicer):
    async def ValidateToken(self, request, context):
        return auth_pb2.ValidateTokenResponse(principal=current_principal().to_proto())


class EchoService(GrpcService):
    async def build(
        self, resources: contextlib.AsyncExitStack, auth_client: AuthClient
    ) -> Sequence[ServicerBinding]:
        return [ServicerBinding(ECHO, auth_pb2_grpc.add_AuthServiceServicer_to_server, PrincipalEcho())]


@pytest.fixture
async def start_echo() -> AsyncIterator:
    started: list[EchoService] = []

    async def start(auth_address: str) -> EchoService:
        config = GrpcServiceConfig(
            name="echo", audience=AUDIENCE, auth_address=auth_address, auth_health=FAST_CHECKS
        )
        service = EchoService(config)
        await service.start()
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        await service.stop()


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


async def _echo(service: EchoService, token: str, *, timeout: float = 10) -> auth_pb2.Principal:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        reply = await auth_pb2_grpc.AuthServiceStub(channel).ValidateToken(
            auth_pb2.ValidateTokenRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=timeout
        )
    return reply.principal


async def _health(service: EchoService, name: str) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=name), timeout=5
        )
    return reply.status


async def _watch_until(service: EchoService, name: str, wanted: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        call = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=name))
        try:
            async with asyncio.timeout(_WAIT_S):
                async for reply in call:
                    if reply.status == wanted:
                        return
        finally:
            call.cancel()


def _retry_delay_s(err: grpc.aio.AioRpcError) -> float | None:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.ToMilliseconds() / 1000
    return None


def _auth_server(port: int = 0, issuers: tuple[TrustedIssuer, ...] = ()) -> AuthServer:
    return AuthServer(
        AuthSettings(
            port=port,
            issuers=issuers,
            internal_tokens=(InternalTokenSpec(name="notes", token=SecretStr(INTERNAL_TOKEN)),),
            metrics_port=None,
        )
    )


# --- a service states its audience -------------------------------------------------------------


def test_a_service_config_without_an_audience_cannot_be_built() -> None:
    with pytest.raises(TypeError, match="audience"):
        GrpcServiceConfig(name="echo")  # type: ignore[call-arg]


@pytest.mark.parametrize("audience", ["", "   ", "urn:atoms:echo urn:atoms:other", " urn:atoms:echo"])
def test_an_empty_or_spaced_audience_is_refused_at_construction(audience: str) -> None:
    with pytest.raises(ValueError, match="audience is required"):
        GrpcServiceConfig(name="echo", audience=audience)


def test_the_auth_interceptor_and_the_standard_chain_refuse_an_empty_audience() -> None:
    client = AuthClient(target="127.0.0.1:1")
    with pytest.raises(ValueError, match="audience"):
        BearerAuthInterceptor(client, audience="")
    with pytest.raises(ValueError, match="audience"):
        standard_interceptors(client, audience="")


@pytest.fixture
async def issuer_and_auth(start_auth_server) -> AsyncIterator[tuple[object, str, str]]:
    key = new_rsa_key()
    async with serving_asgi(JwksEndpoint(keys=[key.public_jwk]).app()) as base:
        issuer = TrustedIssuer(issuer=base, jwks_url=f"{base}/jwks", first_party=True)
        auth = await start_auth_server(
            AuthSettings(
                issuers=(issuer,),
                internal_tokens=(InternalTokenSpec(name="notes", token=SecretStr(INTERNAL_TOKEN)),),
                metrics_port=None,
            )
        )
        yield key, base, f"127.0.0.1:{auth.port}"


@pytest.mark.parametrize("aud", ["urn:atoms:other", "client_01OTHERAPP"])
async def test_a_token_for_another_audience_is_refused_by_a_kit_service(
    issuer_and_auth, start_echo, aud: str
) -> None:
    key, issuer, auth_address = issuer_and_auth
    service = await start_echo(auth_address)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _echo(service, mint(key, issuer=issuer, subject="user_x", aud=aud))

    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_AUDIENCE")


@pytest.mark.parametrize("claims", [{}, {"aud": AUDIENCE}], ids=["session token without aud", "aud is ours"])
async def test_a_session_token_and_a_token_for_the_service_are_accepted(
    issuer_and_auth, start_echo, claims: dict[str, str]
) -> None:
    key, issuer, auth_address = issuer_and_auth
    service = await start_echo(auth_address)

    principal = await _echo(service, mint(key, issuer=issuer, subject="user_y", **claims))

    assert principal.subject == "user_y"


# --- the auth service is down -------------------------------------------------------------------


async def test_a_call_with_a_long_deadline_gets_unavailable_with_retry_info(start_echo) -> None:
    service = await start_echo(f"127.0.0.1:{_free_port()}")  # nothing listens there

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _echo(service, INTERNAL_TOKEN, timeout=30)

    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAVAILABLE, "AUTH_SERVICE_UNAVAILABLE")
    assert _retry_delay_s(caught.value) == AuthClientPolicy().unavailable_retry_delay_s


async def test_the_auth_client_gives_up_on_an_unreachable_service_with_a_retry_hint() -> None:
    client = AuthClient(target=f"127.0.0.1:{_free_port()}", policy=AuthClientPolicy(unreachable_budget_s=0.5))
    try:
        with pytest.raises(AuthServiceUnavailableError) as caught:
            await client.validate(INTERNAL_TOKEN, timeout_s=30)
    finally:
        await client.close()
    assert caught.value.retry_delay_s == AuthClientPolicy().unavailable_retry_delay_s
    assert caught.value.to_status_proto().code == grpc.StatusCode.UNAVAILABLE.value[0]


@pytest.mark.parametrize(
    "bad",
    [{"unreachable_budget_s": 0}, {"unavailable_retry_delay_s": -1}, {"default_timeout_s": float("inf")}],
)
def test_auth_client_policy_refuses_a_bound_that_is_not_positive(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        AuthClientPolicy(**bad)


async def test_readiness_is_off_while_the_auth_service_is_down_and_liveness_stays_on(start_echo) -> None:
    port = _free_port()
    service = await start_echo(f"127.0.0.1:{port}")

    assert await _health(service, "") == SERVING
    assert await _health(service, "atoms.auth.v1.AuthService") == NOT_SERVING
    assert service.readiness().reason == "AUTH_SERVICE_UNAVAILABLE"

    auth = _auth_server(port)
    await auth.start()
    try:
        await _watch_until(service, "atoms.auth.v1.AuthService", SERVING)
        assert service.readiness().ready
        assert (await _echo(service, INTERNAL_TOKEN)).service_name == "notes"
        await auth.stop()
        await _watch_until(service, "atoms.auth.v1.AuthService", NOT_SERVING)
        assert await _health(service, "") == SERVING
    finally:
        await auth.stop()


async def test_a_stopping_service_is_not_ready() -> None:
    auth = _auth_server()
    await auth.start()
    service = EchoService(
        GrpcServiceConfig(name="echo", audience=AUDIENCE, auth_address=f"127.0.0.1:{auth.port}")
    )
    try:
        assert service.readiness().reason == "STARTING"
        await service.start()
        assert service.readiness().ready
    finally:
        await service.stop()
        await auth.stop()
    assert service.readiness().reason == "SHUTTING_DOWN"


# --- the monitor's hysteresis -----------------------------------------------------------------------


class ScriptedAuthClient:
    """Answers health checks from a script, then blocks (the monitor is stopped by then)."""

    target = "scripted-auth:1"

    def __init__(self, answers: Sequence[AuthServiceHealth]) -> None:
        self._answers = list(answers)
        self.exhausted = asyncio.Event()

    async def check_health(self, *, timeout_s: float) -> AuthServiceHealth:
        if not self._answers:
            self.exhausted.set()
            await asyncio.Event().wait()
        return self._answers.pop(0)


async def test_the_monitor_changes_its_verdict_only_after_enough_checks_in_a_row() -> None:
    up, down, draining = (
        AuthServiceHealth.SERVING,
        AuthServiceHealth.UNREACHABLE,
        AuthServiceHealth.NOT_SERVING,
    )
    client = ScriptedAuthClient(
        [
            up,  # the first check, taken as is: reachable
            *(down, up, draining, up),  # single misses: still reachable
            *(down, down),  # two in a row: unreachable
            *(up, down),  # a single success: still unreachable
            *(up, up),  # two in a row: reachable again
        ]
    )
    changes: list[bool] = []
    verdicts: list[bool] = []

    async def on_change(reachable: bool) -> None:
        changes.append(reachable)
        verdicts.append(monitor.reachable)

    monitor = AuthServiceMonitor(
        auth_client=client,  # type: ignore[arg-type]
        policy=AuthHealthPolicy(interval_s=0.001, timeout_s=1, failure_threshold=2, success_threshold=2),
        on_change=on_change,
    )
    await monitor.start()
    try:
        assert monitor.reachable
        async with asyncio.timeout(_WAIT_S):
            await client.exhausted.wait()
    finally:
        await monitor.stop()

    assert changes == verdicts == [False, True]
    assert monitor.reachable
    assert REGISTRY.get_sample_value("atoms_auth_service_reachable", {"target": client.target}) == 1


def test_the_monitor_policy_refuses_thresholds_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AuthHealthPolicy(failure_threshold=0)
