"""The MCP service's probes: `GET /ready` follows the auth service, `GET /health` (liveness) does not.

While the auth service is unreachable no caller can be authenticated, so readiness answers
503 with a JSON reason and the replica leaves the load balancer; liveness stays 200, since a
restart would not bring the auth service back. Waits poll with a deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

import httpx

from atoms_auth.server import AuthServer
from tests.mcp.conftest import AuthStack, StartMcp

_WAIT_S = 20.0


async def _poll_until(check: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(_WAIT_S):
        while not await check():  # noqa: ASYNC110 - an HTTP probe has no event to wait on
            await asyncio.sleep(0.05)


async def test_ready_is_503_while_the_auth_service_is_down_and_health_stays_200(
    auth_stack: AuthStack, start_mcp: StartMcp
) -> None:
    mcp = await start_mcp(auth_stack, auth_health_interval_s=0.05)
    async with httpx.AsyncClient(base_url=mcp.base_url, timeout=5) as http:

        async def ready_is(status: int) -> bool:
            return (await http.get("/ready")).status_code == status

        await _poll_until(lambda: ready_is(200))
        assert (await http.get("/ready")).json() == {"status": "ok"}

        await auth_stack.auth.stop()
        await _poll_until(lambda: ready_is(503))

        answer = await http.get("/ready")
        assert answer.json()["reason"] == "AUTH_SERVICE_UNAVAILABLE"
        assert answer.headers["cache-control"] == "no-store"
        assert (await http.get("/health")).json() == {"status": "ok"}

        assert auth_stack.auth.port is not None
        restarted = AuthServer(replace(auth_stack.auth.settings, port=auth_stack.auth.port))
        await restarted.start()
        try:
            await _poll_until(lambda: ready_is(200))
            assert (await http.get("/health")).status_code == 200
        finally:
            await restarted.stop()


async def test_an_unauthenticated_dev_server_is_ready_with_its_store(start_mcp: StartMcp) -> None:
    mcp = await start_mcp(None, insecure_dev=True)
    async with httpx.AsyncClient(base_url=mcp.base_url, timeout=5) as http:
        answer = await http.get("/ready")

    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
