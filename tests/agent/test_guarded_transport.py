"""GuardedTransport: real TLS and TCP servers on loopback, names resolved by the test's own DNS."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest

from atoms_agent.egress_guard import EgressGuard
from atoms_agent.egress_policy import EgressPolicy
from atoms_agent.guarded_transport import (
    UNREACHABLE_MESSAGE,
    GuardedTransport,
    RegisteredServerTransports,
)
from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_agent.mcp_registry import ServerScope
from tests.support.fake_dns import FakeDns
from tests.support.test_ca import TestCertificateAuthority


@dataclass
class TlsServer:
    """An HTTPS server that answers `ok` and records the SNI name and Host header it receives."""

    port: int
    ca_file: Path
    server_names: list[str | None] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    connections: int = 0

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[TlsServer]:
    authority = TestCertificateAuthority(tmp_path)
    # Valid for mcp.example only, not for 127.0.0.1: a check against the address would fail.
    files = authority.issue("mcp.example", dns=("mcp.example",), loopback=False)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    server = TlsServer(port=0, ca_file=authority.ca_file)
    context.sni_callback = lambda _sock, name, _ctx: server.server_names.append(name)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        for line in head.decode().split("\r\n"):
            if line.lower().startswith("host:"):
                server.hosts.append(line.split(":", 1)[1].strip())
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    server.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield server


def _guard(dns: FakeDns, *, allow_loopback: bool, resolve_timeout_s: float = 2.0) -> EgressGuard:
    return EgressGuard(
        policy=EgressPolicy(allow_loopback=allow_loopback), resolver=dns, resolve_timeout_s=resolve_timeout_s
    )


async def test_connects_to_the_checked_address_with_the_urls_host_for_sni_certificate_and_host(
    tls_server: TlsServer,
) -> None:
    dns = FakeDns({"mcp.example": ["127.0.0.1"]})
    transport = GuardedTransport(guard=_guard(dns, allow_loopback=True), verify=tls_server.client_context())
    async with httpx2.AsyncClient(transport=transport) as client:
        response = await client.get(f"https://mcp.example:{tls_server.port}/")
    assert (response.status_code, response.text) == (200, "ok")
    assert tls_server.server_names == ["mcp.example"]
    assert tls_server.hosts == [f"mcp.example:{tls_server.port}"]
    assert dns.lookups == ["mcp.example"]


async def test_a_name_rebound_to_loopback_is_refused_before_any_connection(tls_server: TlsServer) -> None:
    dns = FakeDns({"mcp.example": ["127.0.0.1"]})
    transport = GuardedTransport(guard=_guard(dns, allow_loopback=False), verify=tls_server.client_context())
    async with httpx2.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx2.ConnectError, match=UNREACHABLE_MESSAGE):
            await client.get(f"https://mcp.example:{tls_server.port}/")
    assert tls_server.connections == 0


async def test_only_the_permitted_address_of_a_mixed_answer_is_used(tls_server: TlsServer) -> None:
    dns = FakeDns({"mcp.example": ["10.0.0.1", "127.0.0.1"]})
    transport = GuardedTransport(guard=_guard(dns, allow_loopback=True), verify=tls_server.client_context())
    async with httpx2.AsyncClient(transport=transport) as client:
        response = await client.get(f"https://mcp.example:{tls_server.port}/")
    assert response.text == "ok"


@contextlib.contextmanager
def _port_that_never_accepts() -> Iterator[int]:
    """A listening port whose accept queue is full: a new connection waits until it times out."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())
        yield listener.getsockname()[1]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_every_connection_failure_raises_the_same_error() -> None:
    dns = FakeDns({"blocked.example": ["10.0.0.1"], "local.example": ["127.0.0.1"]})
    dns.hang("slow.example")
    transport = GuardedTransport(guard=_guard(dns, allow_loopback=True, resolve_timeout_s=0.3))
    failures = {}
    with _port_that_never_accepts() as silent_port:
        cases = {
            "blocked by policy": "https://blocked.example/",
            "no such name": "https://nowhere.example/",
            "DNS timed out": "https://slow.example/",
            "connection refused": f"http://local.example:{_closed_port()}/",
            "connection timed out": f"http://local.example:{silent_port}/",
        }
        async with httpx2.AsyncClient(
            transport=transport, timeout=httpx2.Timeout(5.0, connect=0.3)
        ) as client:
            for case, url in cases.items():
                with pytest.raises(httpx2.TransportError) as caught:
                    await client.get(url)
                failures[case] = (type(caught.value).__name__, str(caught.value))
    dns.release()
    assert failures == dict.fromkeys(cases, ("ConnectError", UNREACHABLE_MESSAGE))


def _server(scope: ServerScope) -> ComposedMcpServer:
    return ComposedMcpServer(
        name="x", url="https://x.example/mcp", scope=scope, first_party=False, forwards_user_token=False
    )


def test_registered_servers_get_a_guarded_transport_and_system_servers_the_default() -> None:
    transports = RegisteredServerTransports(_guard(FakeDns(), allow_loopback=False))
    assert transports(_server(ServerScope.SYSTEM)) is None
    assert isinstance(transports(_server(ServerScope.USER)), GuardedTransport)
    assert isinstance(transports(_server(ServerScope.ORGANIZATION)), GuardedTransport)
