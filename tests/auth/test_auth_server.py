"""The auth service as a server: health, reflection (grpcurl), metrics, deadlines, graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pydantic import SecretStr

from atoms_auth.settings import AuthSettings, InternalTokenSpec, TrustedIssuer
from tests.support.auth_calls import refusal, validate
from tests.support.jwks_server import JwksEndpoint, JwksMode
from tests.support.loopback_http import serving_asgi
from tests.support.token_factory import mint, new_rsa_key, remember

INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))
GRPCURL = str(Path(sys.executable).parent / "grpcurl")


def _internal_only() -> AuthSettings:
    return AuthSettings(
        internal_tokens=(InternalTokenSpec(name="agent", token=SecretStr(INTERNAL_TOKEN)),), metrics_port=None
    )


async def _grpcurl(*args: str) -> tuple[int, str]:
    """Run grpcurl without blocking the event loop that serves the call."""
    process = await asyncio.create_subprocess_exec(
        GRPCURL, "-plaintext", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode or 0, output.decode()


async def _health(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
        return reply.status


async def test_service_with_only_internal_tokens_reports_serving(start_auth_server) -> None:
    server = await start_auth_server(_internal_only())
    for _ in range(100):
        if await _health(server.port) == health_pb2.HealthCheckResponse.SERVING:
            break
        await asyncio.sleep(0.05)
    assert await _health(server.port, "atoms.auth.v1.AuthService") == health_pb2.HealthCheckResponse.SERVING


async def test_grpcurl_lists_the_services_through_reflection(start_auth_server) -> None:
    server = await start_auth_server(_internal_only())
    code, output = await _grpcurl(f"127.0.0.1:{server.port}", "list")
    assert code == 0, output
    assert {"atoms.auth.v1.AuthService", "grpc.health.v1.Health"} <= set(output.split())


async def test_grpcurl_calls_health(start_auth_server) -> None:
    server = await start_auth_server(_internal_only())
    await asyncio.sleep(0.1)
    code, output = await _grpcurl(
        "-d", '{"service": ""}', f"127.0.0.1:{server.port}", "grpc.health.v1.Health/Check"
    )
    assert code == 0, output
    assert json.loads(output) == {"status": "SERVING"}


async def test_grpcurl_validates_an_emulator_style_token(start_auth_server) -> None:
    key = new_rsa_key()
    async with serving_asgi(JwksEndpoint(keys=[key.public_jwk]).app()) as base:
        settings = AuthSettings(
            issuers=(TrustedIssuer(issuer=base, jwks_url=f"{base}/jwks"),), metrics_port=None
        )
        server = await start_auth_server(settings)
        token = mint(key, issuer=base, subject="user_grpcurl", org_id="org_grpcurl")
        code, output = await _grpcurl(
            "-d",
            json.dumps({"token": f"Bearer {token}"}),
            f"127.0.0.1:{server.port}",
            "atoms.auth.v1.AuthService/ValidateToken",
        )
        assert code == 0, output
        principal = json.loads(output)["principal"]
        assert (principal["kind"], principal["subject"], principal["org_id"]) == (
            "PRINCIPAL_KIND_USER",
            "user_grpcurl",
            "org_grpcurl",
        )
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        remember(tampered)
        code, output = await _grpcurl(
            "-format-error",
            "-d",
            json.dumps({"token": tampered}),
            f"127.0.0.1:{server.port}",
            "atoms.auth.v1.AuthService/ValidateToken",
        )
        assert code != 0
        error = json.loads(output)
        assert error["code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]
        assert error["details"][0]["reason"] == "INVALID_SIGNATURE"
        assert error["details"][0]["domain"] == "auth.atoms.internal"


@pytest.mark.parametrize(
    ("symbol", "kind"),
    [
        pytest.param("atoms.auth.v1.AuthService.ValidateToken", "method", id="method"),
        pytest.param("atoms.auth.v1.AuthService", "service", id="service"),
        pytest.param("atoms.auth.v1.ValidateTokenRequest", "message", id="message"),
        pytest.param("atoms.auth.v1.PrincipalKind", "enum", id="enum"),
    ],
)
async def test_reflection_resolves_every_kind_of_symbol(start_auth_server, symbol: str, kind: str) -> None:
    server = await start_auth_server(_internal_only())
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)])
        )
        responses = [response async for response in call]
    assert len(responses) == 1
    assert not responses[0].HasField("error_response"), f"{kind} symbol not resolved"
    assert responses[0].file_descriptor_response.file_descriptor_proto


async def test_grpcurl_describes_a_method_symbol(start_auth_server) -> None:
    server = await start_auth_server(_internal_only())
    code, output = await _grpcurl(
        f"127.0.0.1:{server.port}", "describe", "atoms.auth.v1.AuthService.ValidateToken"
    )
    assert code == 0, output
    assert "rpc ValidateToken" in output


async def test_metrics_endpoint_counts_calls_by_code_and_reason(start_auth_server, auth_stub_factory) -> None:
    settings = AuthSettings(
        internal_tokens=(InternalTokenSpec(name="agent", token=SecretStr(INTERNAL_TOKEN)),),
        metrics_port=0,
    )
    server = await start_auth_server(settings)
    stub = auth_stub_factory(server.port)
    await validate(stub, INTERNAL_TOKEN)
    await refusal(stub, "")
    async with httpx.AsyncClient() as client:
        # The endpoint runs on its own thread: reading it from the loop is fine.
        body = (await client.get(f"http://127.0.0.1:{server.metrics_port}/metrics")).text
    assert 'grpc_code="OK"' in body
    assert 'atoms_grpc_server_handled_total{grpc_code="UNAUTHENTICATED",grpc_method="ValidateToken"' in body
    assert 'reason="MISSING_TOKEN"' in body
    assert 'atoms_auth_validations_total{kind="internal",outcome="ok"}' in body
    assert "atoms_grpc_server_handling_seconds_bucket" in body


@pytest.fixture
async def slow_issuer() -> AsyncIterator[tuple[JwksEndpoint, str]]:
    key = new_rsa_key()
    endpoint = JwksEndpoint(keys=[key.public_jwk], mode=JwksMode.SLOW, slow_s=1.0)
    endpoint.test_key = key  # type: ignore[attr-defined]
    async with serving_asgi(endpoint.app()) as base:
        yield endpoint, base


async def test_caller_deadline_is_honoured_while_keys_are_being_fetched(
    start_auth_server, auth_stub_factory, slow_issuer
) -> None:
    endpoint, base = slow_issuer
    settings = AuthSettings(issuers=(TrustedIssuer(issuer=base, jwks_url=f"{base}/jwks"),), metrics_port=None)
    server = await start_auth_server(settings)
    token = mint(endpoint.test_key, issuer=base)  # type: ignore[attr-defined]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await validate(auth_stub_factory(server.port), token, timeout=0.2)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_graceful_shutdown_goes_not_serving_and_lets_in_flight_calls_finish(start_auth_server) -> None:
    from atoms.auth.v1 import auth_pb2_grpc
    from atoms_auth.jwks_cache import JwksCachePolicy

    old_key, new_key = new_rsa_key(), new_rsa_key()
    endpoint = JwksEndpoint(keys=[old_key.public_jwk])
    async with serving_asgi(endpoint.app()) as base:
        settings = AuthSettings(
            issuers=(TrustedIssuer(issuer=base, jwks_url=f"{base}/jwks"),),
            metrics_port=None,
            shutdown_grace_s=10.0,
            jwks=JwksCachePolicy(refresh_cooldown_s=0.0),
        )
        server = await start_auth_server(settings)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
            statuses = [(await watch.read()).status]
            while statuses[-1] != health_pb2.HealthCheckResponse.SERVING:
                statuses.append((await watch.read()).status)
            # The in-flight call: a new kid makes the service refetch keys from a slow issuer.
            endpoint.keys.append(new_key.public_jwk)
            endpoint.mode, endpoint.slow_s = JwksMode.SLOW, 1.0
            token = mint(new_key, issuer=base)
            in_flight = asyncio.ensure_future(
                validate(auth_pb2_grpc.AuthServiceStub(channel), token, timeout=10)
            )
            await asyncio.sleep(0.2)
            assert not in_flight.done()
            stopping = asyncio.ensure_future(server.stop())
            statuses.append((await watch.read()).status)
            watch.cancel()
            principal = await in_flight
            await stopping
    assert statuses[-1] == health_pb2.HealthCheckResponse.NOT_SERVING
    assert principal.subject == "user_01TEST"
