"""The kit's auth path: BearerAuthInterceptor + AuthClient against a real auth service.

The protected service here is a small servicer that answers with the principal the
interceptor exposed to it (`current_principal()`), served by the kit's GrpcServiceHost.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_auth.settings import AuthSettings, InternalTokenSpec, TrustedIssuer
from atoms_grpc import (
    AccessLogInterceptor,
    AuthClient,
    AuthClientPolicy,
    BearerAuthInterceptor,
    GrpcServiceHost,
    RequestIdInterceptor,
    ServiceError,
    StatusMappingInterceptor,
    current_principal,
    forwarded_metadata,
)
from tests.support.auth_calls import refusal_of
from tests.support.jwks_server import JwksEndpoint
from tests.support.loopback_http import serving_asgi
from tests.support.token_factory import KeyPair, mint, new_rsa_key, remember

INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))
SERVICE = "atoms.auth.v1.AuthService"


class TeapotError(ServiceError):
    """A domain error a handler raises; the kit maps it."""

    status_code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "TEAPOT"
    domain = "example.atoms.internal"


class PrincipalEchoServicer(auth_pb2_grpc.AuthServiceServicer):
    """Answers with the caller's principal; `token` selects a failure to exercise the mapping."""

    def __init__(self) -> None:
        self.forwarded: list[tuple[tuple[str, str], ...]] = []

    async def ValidateToken(self, request, context):
        if request.token == "raise-domain-error":
            raise TeapotError("the pot is a teapot", metadata={"hint": "use a kettle"})
        if request.token == "raise-bug":
            raise RuntimeError("secret internal detail")
        self.forwarded.append(forwarded_metadata())
        return auth_pb2.ValidateTokenResponse(principal=current_principal().to_proto())


@dataclass
class Protected:
    stub: auth_pb2_grpc.AuthServiceStub
    channel: grpc.aio.Channel
    servicer: PrincipalEchoServicer
    key: KeyPair
    issuer: str
    auth: object


@pytest.fixture
async def protected(start_auth_server) -> AsyncIterator[Protected]:
    key = new_rsa_key()
    async with serving_asgi(JwksEndpoint(keys=[key.public_jwk]).app()) as base:
        settings = AuthSettings(
            issuers=(TrustedIssuer(issuer=base, jwks_url=f"{base}/jwks", first_party=True),),
            internal_tokens=(InternalTokenSpec(name="agent", token=SecretStr(INTERNAL_TOKEN)),),
            metrics_port=None,
        )
        auth = await start_auth_server(settings)
        client = AuthClient(target=f"127.0.0.1:{auth.port}")
        servicer = PrincipalEchoServicer()
        host = GrpcServiceHost(
            service_names=[SERVICE],
            registrations=[lambda s: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, s)],
            interceptors=(
                RequestIdInterceptor(),
                AccessLogInterceptor(),
                StatusMappingInterceptor(),
                BearerAuthInterceptor(client, audience="https://example.atoms.test"),
            ),
        )
        port = await host.start("127.0.0.1:0")
        await host.set_serving(True)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        try:
            yield Protected(auth_pb2_grpc.AuthServiceStub(channel), channel, servicer, key, base, auth)
        finally:
            await channel.close()
            await host.stop(0)
            await client.close()


async def _call(protected: Protected, authorization: str | None, token_field: str = "") -> auth_pb2.Principal:
    metadata = (("authorization", authorization),) if authorization is not None else ()
    response = await protected.stub.ValidateToken(
        auth_pb2.ValidateTokenRequest(token=token_field), metadata=metadata, timeout=10
    )
    return response.principal


async def test_valid_bearer_token_reaches_the_handler_as_its_principal(protected: Protected) -> None:
    token = mint(protected.key, issuer=protected.issuer, subject="user_9", org_id="org_9")
    principal = await _call(protected, f"Bearer {token}")
    assert (principal.subject, principal.org_id) == ("user_9", "org_9")


async def test_internal_token_reaches_the_handler_as_a_service(protected: Protected) -> None:
    principal = await _call(protected, f"Bearer {INTERNAL_TOKEN}")
    assert principal.service_name == "agent"


async def test_call_without_authorization_is_unauthenticated_with_missing_token(protected: Protected) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(protected, None)
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, "MISSING_TOKEN")


async def test_basic_scheme_is_refused_as_malformed(protected: Protected) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(protected, "Basic dXNlcjpwYXNz")
    assert refusal_of(caught.value).reason == "MALFORMED_TOKEN"


async def test_auth_service_refusal_reason_is_passed_through(protected: Protected) -> None:
    token = mint(protected.key, issuer=protected.issuer, ttl_s=-300)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(protected, f"Bearer {token}")
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason, refused.domain) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "TOKEN_EXPIRED",
        "auth.atoms.internal",
    )


async def test_third_party_token_for_another_audience_is_refused(protected: Protected) -> None:
    token = mint(protected.key, issuer=protected.issuer, aud="https://somewhere-else.test")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(protected, f"Bearer {token}")
    assert refusal_of(caught.value).reason == "INVALID_AUDIENCE"


async def test_health_and_reflection_need_no_token(protected: Protected) -> None:
    health = health_pb2_grpc.HealthStub(protected.channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_handler_sees_the_token_to_forward_downstream(protected: Protected) -> None:
    token = mint(protected.key, issuer=protected.issuer)
    await protected.stub.ValidateToken(
        auth_pb2.ValidateTokenRequest(),
        metadata=(("authorization", f"Bearer {token}"), ("x-request-id", "req-123")),
        timeout=10,
    )
    assert protected.servicer.forwarded == [
        (("authorization", f"Bearer {token}"), ("x-request-id", "req-123"))
    ]


async def test_domain_error_becomes_its_status_with_error_info(protected: Protected) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(protected, f"Bearer {INTERNAL_TOKEN}", token_field="raise-domain-error")
    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason, refused.domain, refused.metadata) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "TEAPOT",
        "example.atoms.internal",
        {"hint": "use a kettle"},
    )


async def test_unexpected_exception_is_internal_without_details(protected: Protected) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(protected, f"Bearer {INTERNAL_TOKEN}", token_field="raise-bug")
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (caught.value.details() or "")


async def test_cached_answer_is_served_while_the_auth_service_is_down(protected: Protected) -> None:
    token = mint(protected.key, issuer=protected.issuer, subject="user_cached")
    other = mint(protected.key, issuer=protected.issuer, subject="user_uncached")
    client = AuthClient(
        target=f"127.0.0.1:{protected.auth.port}",
        policy=AuthClientPolicy(retry_initial_backoff_s=0.01, retry_max_backoff_s=0.05),
    )
    try:
        first = await client.validate(token)
        await protected.auth.stop()
        assert (await client.validate(f"Bearer {token}", timeout_s=0.5)).subject == first.subject
        with pytest.raises(ServiceError) as caught:
            await client.validate(other, timeout_s=0.5)
        assert caught.value.reason == "AUTH_SERVICE_UNAVAILABLE"
    finally:
        await client.close()


async def test_unreachable_auth_service_is_unavailable_not_unauthenticated() -> None:
    client = AuthClient(
        target="127.0.0.1:1", policy=AuthClientPolicy(retry_initial_backoff_s=0.01, retry_max_backoff_s=0.05)
    )
    with pytest.raises(ServiceError) as caught:
        await client.validate(INTERNAL_TOKEN, timeout_s=0.5)
    assert caught.value.status_code == grpc.StatusCode.UNAVAILABLE
    assert caught.value.reason == "AUTH_SERVICE_UNAVAILABLE"
    await client.close()


async def test_client_retries_until_the_auth_service_comes_up_within_the_deadline() -> None:
    import asyncio
    import socket

    from atoms_auth.server import AuthServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = AuthClient(
        target=f"127.0.0.1:{port}",
        policy=AuthClientPolicy(retry_initial_backoff_s=0.02, retry_max_backoff_s=0.1),
    )
    late_server = AuthServer(
        AuthSettings(
            port=port,
            internal_tokens=(InternalTokenSpec(name="agent", token=SecretStr(INTERNAL_TOKEN)),),
            metrics_port=None,
        )
    )
    call = asyncio.ensure_future(client.validate(INTERNAL_TOKEN, timeout_s=10))
    await asyncio.sleep(0.3)
    assert not call.done()
    await late_server.start()
    try:
        assert (await call).service_name == "agent"
    finally:
        await client.close()
        await late_server.stop()
