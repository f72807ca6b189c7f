"""ListenError: each face of a service reports a port it cannot bind alike, and leaves nothing running."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from atoms_auth.server import AuthServer
from atoms_auth.settings import AuthSettings, InternalTokenSpec
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from atoms_grpc.grpc_service_host import GrpcServiceHost
from atoms_grpc.listen_sockets import FACE_GRPC, FACE_HTTP, FACE_METRICS, ListenError
from atoms_grpc.service_metrics import MetricsEndpoint
from tests.support.token_factory import remember


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def test_the_grpc_host_reports_a_port_in_use_as_a_listen_error(occupied_port: int) -> None:
    host = GrpcServiceHost(service_names=[], registrations=[])
    with pytest.raises(ListenError) as caught:
        await host.start(f"127.0.0.1:{occupied_port}")
    await host.stop(0)
    assert (caught.value.face, caught.value.port, caught.value.in_use) == (FACE_GRPC, occupied_port, True)


def test_the_metrics_endpoint_reports_a_port_in_use_as_a_listen_error(occupied_port: int) -> None:
    endpoint = MetricsEndpoint(host="127.0.0.1", port=occupied_port)
    with pytest.raises(ListenError) as caught:
        endpoint.start()
    assert (caught.value.face, caught.value.port, caught.value.in_use) == (FACE_METRICS, occupied_port, True)


async def test_the_http_server_reports_a_port_in_use_before_the_app_starts(occupied_port: int) -> None:
    started: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started.append("startup")
        yield

    server = EmbeddedHttpServer(Starlette(lifespan=lifespan), port=occupied_port, lifespan="on")
    with pytest.raises(ListenError) as caught:
        await server.start()
    assert (caught.value.face, caught.value.port, caught.value.in_use) == (FACE_HTTP, occupied_port, True)
    assert started == []  # uvicorn used to run the app's startup, then exit the process


async def test_the_http_server_releases_the_port_it_bound_when_stopped() -> None:
    server = EmbeddedHttpServer(Starlette(), lifespan="off")
    port = await server.start()
    await server.stop()
    assert _bindable(port)


async def test_an_auth_server_whose_metrics_port_is_taken_releases_its_grpc_port(occupied_port: int) -> None:
    token = remember("listen-error-internal-token-" + "x" * 20)
    settings = AuthSettings(
        port=0,
        metrics_port=occupied_port,
        internal_tokens=(InternalTokenSpec(name="agent", token=SecretStr(token)),),
    )
    server = AuthServer(settings)
    with pytest.raises(ListenError, match="for metrics: the port is in use"):
        await server.start()
    assert server.port is not None
    assert _bindable(server.port)


def test_the_advice_names_the_flag_of_the_face_that_failed() -> None:
    error = ListenError(face=FACE_HTTP, host="::1", port=8000, problem="the port is in use", in_use=True)
    assert error.advice({FACE_GRPC: "--port", FACE_HTTP: "--http-port"}) == (
        "cannot listen on [::1]:8000 for HTTP: the port is in use; stop what holds it or choose "
        "another port with --http-port (0 picks a free one)"
    )
