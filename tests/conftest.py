"""Shared fixtures: loopback servers, keys, token factories, the log hygiene check, and the
default ports of the dev stack held for the whole run (no test may need them)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any

import grpc
import pytest

from atoms_grpc.log_format import JsonLogFormatter
from tests.support.log_hygiene import find_leaks
from tests.support.token_factory import ISSUED_TOKENS


class _CollectingHandler(logging.Handler):
    """Keeps every formatted log line of the session."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(JsonLogFormatter(service="tests"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a broken record must not hide the others
            self.lines.append(record.getMessage())


_LOG_LINES = _CollectingHandler()

# Where `make run-*` (and every service without flags) listens. The suite must pass while a
# developer runs that stack, so no test may bind one of these: they are held for the whole
# run, and a test (or a child process it starts) that tries gets "address in use" every time.
# How often a default port held by another process is tried again.
_PORT_RETRY_S = 0.05
DEV_STACK_PORTS = {
    50051: "auth service gRPC",
    50052: "agent gRPC",
    3284: "agent HTTP",
    8000: "Atoms MCP",
    8100: "AuthKit emulator",
    8110: "dev model",
    9464: "auth service metrics",
}


@pytest.fixture(scope="session", autouse=True)
def _dev_stack_ports_are_taken() -> Iterator[None]:
    """Listen on 127.0.0.1 on every default port for the whole run.

    A port already taken (a running dev stack, another checkout's test run) is the same
    situation for the tests; but its holder may stop before this run ends, so a thread takes
    each such port as soon as it is free again.
    """
    held: list[socket.socket] = []
    waiting = [port for port in DEV_STACK_PORTS if not _hold(port, held)]
    stop = threading.Event()
    taker = threading.Thread(target=_take_when_free, args=(waiting, held, stop), daemon=True)
    taker.start()
    yield
    stop.set()
    taker.join()
    for listener in held:
        listener.close()


def _hold(port: int, held: list[socket.socket]) -> bool:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
    except OSError:
        listener.close()
        return False
    held.append(listener)
    return True


def _take_when_free(ports: list[int], held: list[socket.socket], stop: threading.Event) -> None:
    while ports and not stop.wait(_PORT_RETRY_S):
        ports[:] = [port for port in ports if not _hold(port, held)]


@pytest.fixture
def occupied_port() -> Iterator[int]:
    """A loopback port on which something else already listens (to provoke "address in use")."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield int(listener.getsockname()[1])


@pytest.fixture(scope="session", autouse=True)
def _capture_all_logs() -> Iterator[_CollectingHandler]:
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(_LOG_LINES)
    root.setLevel(logging.DEBUG)
    # gRPC's Cython layer logs "Loaded running loop" at DEBUG from inside its event-loop
    # lookup, thousands of times per test. Once in several suite runs, pytest's capture
    # handler failed there with a stream that was no longer a stream; keep that layer at
    # INFO (its DEBUG lines carry loop ids only, never request data).
    logging.getLogger("grpc._cython.cygrpc").setLevel(logging.INFO)
    yield _LOG_LINES
    root.removeHandler(_LOG_LINES)
    root.setLevel(previous_level)


@pytest.fixture(autouse=True)
def _no_token_in_logs() -> Iterator[None]:
    """Fail the test whose log lines contain any token minted or configured in the suite."""
    start = len(_LOG_LINES.lines)
    yield
    new_lines = _LOG_LINES.lines[start:]
    leaked = find_leaks(new_lines, ISSUED_TOKENS)
    assert not leaked, f"a token appeared in {len(leaked)} log line(s), e.g. {leaked[0][:200]}"


def log_lines() -> list[str]:
    """Every log line captured so far in the session (JSON)."""
    return list(_LOG_LINES.lines)


@pytest.fixture
async def auth_stub_factory() -> AsyncIterator[Callable[[int], Any]]:
    """Open real gRPC channels to a local port; all are closed after the test."""
    from atoms.auth.v1 import auth_pb2_grpc

    channels: list[grpc.aio.Channel] = []

    def open_stub(port: int) -> auth_pb2_grpc.AuthServiceStub:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        channels.append(channel)
        return auth_pb2_grpc.AuthServiceStub(channel)

    yield open_stub
    for channel in channels:
        await channel.close()


@pytest.fixture
async def start_auth_server() -> AsyncIterator[Callable[..., Any]]:
    """Start AuthServer instances on 127.0.0.1:0; stop them after.

    No metrics endpoint unless asked for with `metrics_port=0` (in the settings or as an
    argument): the settings' default port is the dev stack's 9464.
    """
    from atoms_auth.server import AuthServer

    servers: list[AuthServer] = []

    async def start(settings: Any, **kwargs: Any) -> AuthServer:
        kwargs.setdefault("metrics_port", 0 if settings.metrics_port == 0 else None)
        settings = replace(settings, host="127.0.0.1", port=0, **kwargs)
        server = AuthServer(settings)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        await server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database URL: ATOMS_TEST_POSTGRES_URL, else a temporary local server, else skip."""
    import os

    from tests.support.postgres_server import PostgresUnavailableError, temporary_postgres

    if configured := os.environ.get("ATOMS_TEST_POSTGRES_URL"):
        yield configured
        return
    try:
        with temporary_postgres() as url:
            yield url
    except PostgresUnavailableError as err:
        pytest.skip(f"no PostgreSQL server for this test: {err} (set ATOMS_TEST_POSTGRES_URL to use one)")
