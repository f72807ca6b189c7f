"""EmbeddedHttpServer: serves an ASGI app on the caller's loop, on a port or on given sockets."""

from __future__ import annotations

import asyncio
import socket

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from atoms_grpc.embedded_http_server import EmbeddedHttpServer


async def _hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def _app() -> Starlette:
    return Starlette(routes=[Route("/", _hello)])


async def _get_once_then_stop(server: EmbeddedHttpServer, url: str) -> httpx.Response:
    """GET `url` from the started server, then stop it whatever happened."""
    try:
        async with httpx.AsyncClient() as client:
            return await client.get(url)
    finally:
        await server.stop()


async def test_it_serves_on_a_free_port_and_reports_it():
    server = EmbeddedHttpServer(_app(), lifespan="off")
    port = await server.start()
    reply = await _get_once_then_stop(server, f"http://127.0.0.1:{port}/")

    assert (reply.status_code, reply.text) == (200, "hello")
    assert server.base_url == f"http://127.0.0.1:{port}"


async def test_it_serves_on_a_socket_the_caller_bound():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        bound_port = listener.getsockname()[1]
        server = EmbeddedHttpServer(_app(), sockets=[listener], lifespan="off")
        port = await server.start()
        reply = await _get_once_then_stop(server, f"http://127.0.0.1:{bound_port}/")

    assert port == bound_port
    assert reply.text == "hello"


async def test_wait_returns_once_the_server_has_stopped():
    server = EmbeddedHttpServer(_app(), lifespan="off")
    await server.start()
    waiting = asyncio.create_task(server.wait())
    await asyncio.sleep(0.05)
    assert not waiting.done()

    await server.stop()

    await asyncio.wait_for(waiting, timeout=5)
