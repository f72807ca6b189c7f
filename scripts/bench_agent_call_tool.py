"""Latency of `CallTool(whoami)` through the agent against a direct call to the Atoms MCP service.

It starts the same stack as `make demo` (emulator, auth, Atoms MCP, agent as child processes
on loopback), then, with one user token and warm sessions on both paths, makes sequential
calls and prints p50 / p90 / p99 for each path and their ratio. Nothing is asserted.

Usage: python scripts/bench_agent_call_tool.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from services.authkit_emulator import mint_token
from services.demo.walkthrough import DemoStack, running_stack


async def _measure(call: Callable[[], Awaitable[Any]], calls: int) -> list[float]:
    for _ in range(20):  # warm-up: sessions open, caches fill
        await call()
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    return latencies


def _summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1] * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
    }


async def _bench(stack: DemoStack, calls: int) -> dict[str, dict[str, float]]:
    token = mint_token(
        stack.key_store, issuer=stack.issuer, subject="user_bench", org_id="org_bench", ttl_s=3600
    )
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30.0) as http,
        mcp.Client(streamable_http_client(stack.mcp_url, http_client=http)) as direct,
        grpc.aio.insecure_channel(stack.agent_address) as channel,
    ):
        stub = agent_pb2_grpc.AgentServiceStub(channel)
        request = agent_pb2.CallToolRequest(server_name="atoms", tool_name="whoami")
        metadata = (("authorization", f"Bearer {token}"),)
        direct_ms = await _measure(lambda: direct.call_tool("whoami", {}), calls)
        agent_ms = await _measure(lambda: stub.CallTool(request, metadata=metadata, timeout=10), calls)
    return {"direct MCP call_tool(whoami)": _summary(direct_ms), "agent CallTool(whoami)": _summary(agent_ms)}


async def run(calls: int) -> dict[str, dict[str, float]]:
    """Start the stack, measure both paths, stop the stack."""
    async with running_stack(Path(tempfile.mkdtemp(prefix="atoms-bench-agent-"))) as stack:
        return await _bench(stack, calls)


def main() -> int:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    options = parser.parse_args()
    results = asyncio.run(run(options.calls))
    print(f"{'path':<30} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
    for name, row in results.items():
        print(f"{name:<30} {row['p50_ms']:>8} {row['p90_ms']:>8} {row['p99_ms']:>8}")
    direct, agent = results.values()
    print(f"agent p50 / direct p50 = {agent['p50_ms'] / direct['p50_ms']:.2f}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
