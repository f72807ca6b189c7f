"""A first, simple benchmark of ValidateToken: warm and cold JWTs, internal and invalid tokens.

It starts the AuthKit emulator and `atoms auth serve` as child processes (uvloop, one
worker, no metrics port), mints tokens from the emulator's key file, then drives the
service from this process with real gRPC channels: sequential calls (latency of one call)
and concurrent calls (throughput). Nothing here is asserted; `make bench-validate` prints
the table that `docs/performance.md` records.

Usage: python scripts/bench_validate_token.py [--calls 3000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import grpc

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_devtools.authkit_emulator import EmulatorKeyStore, mint_token
from atoms_devtools.demo.child_process import ServiceProcess

PYTHON = sys.executable


async def _timed_calls(
    stub: auth_pb2_grpc.AuthServiceStub, tokens: Callable[[int], str], calls: int, concurrency: int
) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    next_index = 0

    async def worker() -> None:
        nonlocal next_index, errors
        while next_index < calls:
            index = next_index
            next_index += 1
            started = time.perf_counter()
            try:
                await stub.ValidateToken(auth_pb2.ValidateTokenRequest(token=tokens(index)), timeout=10)
            except grpc.aio.AioRpcError as err:
                if err.code() != grpc.StatusCode.UNAUTHENTICATED:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - began, errors


def _row(name: str, latencies: list[float], elapsed: float, errors: int) -> dict[str, float | str | int]:
    ordered = sorted(latencies)
    return {
        "scenario": name,
        "calls": len(ordered),
        "rps": round(len(ordered) / elapsed),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
        "errors": errors,
    }


async def run(calls: int, concurrency: int) -> list[dict[str, float | str | int]]:
    """Start the services, measure every scenario, stop the services; return the rows."""
    workdir = Path(tempfile.mkdtemp(prefix="atoms-bench-"))
    keys_file = workdir / "keys.json"
    internal = secrets.token_urlsafe(36)
    env = dict(os.environ)
    emulator = await ServiceProcess.start(
        "authkit-emulator",
        "dev",
        "authkit",
        "--port",
        "0",
        "--keys-file",
        str(keys_file),
        log_dir=workdir,
        env=env,
    )
    issuer = (await emulator.wait_for(r"listening on (http://\S+?);")).group(1)
    auth_env = {**env, "WORKOS_CLIENT_ID": "client_bench", "WORKOS_API_BASE_URL": f"{issuer}/"}
    auth_env["ATOMS_INTERNAL_TOKEN"] = internal
    auth = await ServiceProcess.start(
        "auth", "auth", "serve", "--port", "0", "--no-metrics", log_dir=workdir, env=auth_env
    )
    port = (await auth.wait_for(r'"grpc_port": (\d+)')).group(1)
    store = EmulatorKeyStore(path=keys_file)
    cold_tokens = [
        mint_token(store, issuer=issuer, subject=f"user_{i}", org_id="org_bench") for i in range(calls)
    ]
    warm_token = cold_tokens.pop()
    rows = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = auth_pb2_grpc.AuthServiceStub(channel)
            await stub.ValidateToken(auth_pb2.ValidateTokenRequest(token=warm_token), timeout=10)
            half = len(cold_tokens) // 2
            scenarios: list[tuple[str, Callable[[int], str], int, int]] = [
                ("internal token, 1 at a time", lambda i: internal, 500, 1),
                ("warm JWT, 1 at a time", lambda i: warm_token, 500, 1),
                ("cold JWT, 1 at a time", lambda i: cold_tokens[i], min(500, half), 1),
                (f"internal token, {concurrency} concurrent", lambda i: internal, calls, concurrency),
                (f"warm JWT, {concurrency} concurrent", lambda i: warm_token, calls, concurrency),
                (f"cold JWT, {concurrency} concurrent", lambda i: cold_tokens[half + i], half, concurrency),
                (f"invalid token, {concurrency} concurrent", lambda i: "not-a-token", calls, concurrency),
            ]
            for name, tokens, count, workers in scenarios:
                rows.append(_row(name, *await _timed_calls(stub, tokens, count, workers)))
    finally:
        for child in (auth, emulator):
            await child.stop()
    return rows


def main() -> int:
    """Run the benchmark and print a table and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    options = parser.parse_args()
    rows = asyncio.run(run(options.calls, options.concurrency))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'scenario':<34} {'calls':>6} {'rps':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for row in rows:
        print(
            f"{row['scenario']:<34} {row['calls']:>6} {row['rps']:>7} {row['p50_ms']:>8} {row['p99_ms']:>8} "
            f"{row['errors']:>6}"
        )
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
