"""The agent while its auth service is down: a prompt UNAVAILABLE with a retry hint, and readiness off.

A gRPC caller with a long deadline gets UNAVAILABLE / AUTH_SERVICE_UNAVAILABLE with a
`google.rpc.RetryInfo`, not DEADLINE_EXCEEDED; the HTTP face answers 503 with `Retry-After`.
Readiness (the per-service gRPC health name and `GET /ready`) goes NOT_SERVING while the auth
service is unreachable and comes back when it returns; liveness ("" and `GET /health`) stays
SERVING throughout. Waits follow the health stream (Watch) or poll with a deadline.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import grpc
import httpx
import pytest
from google.protobuf import struct_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from atoms.agent.v1 import agent_pb2
from atoms_auth.server import AuthServer
from atoms_grpc.auth_service_monitor import AuthHealthPolicy
from tests.support.auth_calls import refusal_of

AGENT_SERVICE = "atoms.agent.v1.AgentService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
FAST_CHECKS = AuthHealthPolicy(interval_s=0.05, timeout_s=0.5, failure_threshold=2, success_threshold=2)
_WAIT_S = 20.0


@pytest.fixture
async def stack(agent_stack_factory):
    stack = await agent_stack_factory(auth_health=FAST_CHECKS)
    await _watch_until(stack.channel, AGENT_SERVICE, SERVING)  # the auth service has warmed its keys
    return stack


def _call_tool(stack, token: str, *, timeout: float) -> Awaitable[agent_pb2.CallToolResponse]:
    arguments = struct_pb2.Struct()
    arguments.update({"text": "hi"})
    return stack.stub.CallTool(
        agent_pb2.CallToolRequest(server_name="atoms", tool_name="echo", arguments=arguments),
        metadata=stack.metadata(token),
        timeout=timeout,
    )


def _retry_delay_s(err: grpc.aio.AioRpcError) -> float | None:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.ToMilliseconds() / 1000
    return None


async def _health(channel: grpc.aio.Channel, service: str) -> int:
    reply = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=5
    )
    return reply.status


async def _watch_until(channel: grpc.aio.Channel, service: str, wanted: int) -> None:
    """Follow the health stream of `service` until it reports `wanted` (or fail after _WAIT_S)."""
    call = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=service))
    try:
        async with asyncio.timeout(_WAIT_S):
            async for reply in call:
                if reply.status == wanted:
                    return
    finally:
        call.cancel()


async def _poll_until(check: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(_WAIT_S):
        while not await check():  # noqa: ASYNC110 - an HTTP probe has no event to wait on
            await asyncio.sleep(0.05)


async def _restart(auth: AuthServer) -> AuthServer:
    """A new auth service on the port of the stopped one (same settings, same emulator)."""
    assert auth.port is not None
    restarted = AuthServer(dataclasses.replace(auth.settings, port=auth.port))
    await restarted.start()
    return restarted


async def test_call_tool_with_a_long_deadline_gets_unavailable_with_a_retry_hint(stack) -> None:
    await stack.auth.stop()
    token = stack.token("user_during_outage")  # never validated before: nothing cached

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call_tool(stack, token, timeout=30)

    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAVAILABLE, "AUTH_SERVICE_UNAVAILABLE")
    delay = _retry_delay_s(caught.value)
    assert delay is not None
    assert delay > 0
    assert f"Bearer {token}" not in stack.first_party.authorizations


async def test_list_servers_with_a_long_deadline_gets_unavailable_not_deadline_exceeded(stack) -> None:
    await stack.auth.stop()

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.stub.ListMcpServers(
            agent_pb2.ListMcpServersRequest(), metadata=stack.metadata(stack.token("user_b")), timeout=60
        )

    assert refusal_of(caught.value).reason == "AUTH_SERVICE_UNAVAILABLE"
    assert _retry_delay_s(caught.value) is not None


async def test_http_chat_gets_503_with_retry_after(stack) -> None:
    await stack.auth.stop()

    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"http://127.0.0.1:{stack.agent.http_port}/v1/chat/completions",
            headers={"Authorization": f"Bearer {stack.token('user_http')}"},
            json={"messages": [{"role": "user", "content": "hi"}]},
        )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "AUTH_SERVICE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) >= 1


async def test_readiness_follows_the_auth_service_while_liveness_stays_serving(stack) -> None:
    base = f"http://127.0.0.1:{stack.agent.http_port}"
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.get(f"{base}/ready")).json() == {"status": "ok"}

        await stack.auth.stop()
        await _watch_until(stack.channel, AGENT_SERVICE, NOT_SERVING)

        assert await _health(stack.channel, "") == SERVING
        assert (await http.get(f"{base}/health")).status_code == 200
        ready = await http.get(f"{base}/ready")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "AUTH_SERVICE_UNAVAILABLE"

        restarted = await _restart(stack.auth)
        try:
            await _watch_until(stack.channel, AGENT_SERVICE, SERVING)
            await _poll_until(lambda: _answers_ready(http, base))
            assert await _health(stack.channel, "") == SERVING
            listed = await stack.stub.ListMcpServers(
                agent_pb2.ListMcpServersRequest(), metadata=stack.metadata(stack.token("user_c")), timeout=10
            )
            assert "atoms" in [server.name for server in listed.servers]
        finally:
            await restarted.stop()


async def _answers_ready(http: httpx.AsyncClient, base: str) -> bool:
    return (await http.get(f"{base}/ready")).status_code == 200
