"""`atoms auth serve --workers 2`: two processes share one port, both answer, both stop on SIGTERM."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_devtools.demo.child_process import ServiceProcess
from tests.support.token_factory import remember

INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))
CONNECTIONS = 16  # the kernel spreads connections by hash: 16 miss a worker once in 32,768 runs


@pytest.fixture
async def pool(tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATOMS_", "WORKOS_", "AUTHKIT_"))}
    env["ATOMS_INTERNAL_TOKEN"] = INTERNAL_TOKEN
    process = await ServiceProcess.start(
        "auth-pool",
        "auth",
        "serve",
        "--port",
        "0",
        "--metrics-port",
        "0",
        "--workers",
        "2",
        log_dir=tmp_path,
        env=env,
    )
    try:
        await process.wait_for(r'"workers": 2', timeout_s=60)
        yield process
    finally:
        await process.stop()


async def _port(pool: ServiceProcess) -> int:
    return int((await pool.wait_for(r'"grpc_port": (\d+), "workers"')).group(1))


async def _validations_per_worker(pool: ServiceProcess) -> list[float]:
    ports = re.findall(r"metrics served at http://127\.0\.0\.1:(\d+)/metrics", await pool.output())
    counts = []
    async with httpx.AsyncClient(timeout=5) as http:
        for port in ports:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            counts.append(
                sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith("atoms_auth_validations_total{") and 'outcome="ok"' in line
                )
            )
    return counts


async def test_two_workers_listen_on_one_port_and_both_answer(pool: ServiceProcess) -> None:
    port = await _port(pool)
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) for _ in range(CONNECTIONS)]
    try:
        for channel in channels:
            reply = await auth_pb2_grpc.AuthServiceStub(channel).ValidateToken(
                auth_pb2.ValidateTokenRequest(token=INTERNAL_TOKEN), timeout=10
            )
            assert reply.principal.service_name == "internal"
    finally:
        for channel in channels:
            await channel.close()
    counts = await _validations_per_worker(pool)
    assert len(counts) == 2
    assert all(count > 0 for count in counts), counts
    assert sum(counts) == CONNECTIONS


async def test_sigterm_stops_every_worker_and_the_pool_exits_cleanly(pool: ServiceProcess) -> None:
    assert await pool.stop() == 0
    assert (await pool.output()).count("gRPC server stopped") == 2
