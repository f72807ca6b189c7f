"""CallTool(whoami) through the agent against the same call made directly to the Atoms MCP service.

Both paths are warm (one user token, sessions open, caches filled by a warm-up) and the
calls are sequential, so the figures are the latency a caller sees, not throughput.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client

from atoms.agent.v1 import agent_pb2, agent_pb2_grpc
from atoms_devtools.loadgen.bench.bench_plan import BenchPlan, BenchReport
from atoms_devtools.loadgen.bench.bench_stack import BenchStack
from atoms_devtools.loadgen.bench.token_pools import mint_tokens

WARMUP_CALLS = 20


async def run_agent_vs_direct(
    report: BenchReport, plan: BenchPlan, *, stack: BenchStack, mcp_url: str, agent_address: str
) -> None:
    """Measure both paths one call at a time and compare their p50."""
    print("agent CallTool(whoami) against a direct MCP call", flush=True)
    token = mint_tokens(stack.keys_file, issuer=stack.issuer, count=1, tag="agent")[0]
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30.0) as http,
        mcp.Client(streamable_http_client(mcp_url, http_client=http)) as direct,
        grpc.aio.insecure_channel(agent_address) as channel,
    ):
        stub = agent_pb2_grpc.AgentServiceStub(channel)
        request = agent_pb2.CallToolRequest(server_name="atoms", tool_name="whoami")
        metadata = (("authorization", f"Bearer {token}"),)
        direct_ms = await _sequential(lambda: direct.call_tool("whoami", {}), plan.agent_calls)
        agent_ms = await _sequential(
            lambda: stub.CallTool(request, metadata=metadata, timeout=10), plan.agent_calls
        )
    rows = []
    summaries = {}
    for name, latencies in (
        ("direct MCP call_tool(whoami)", direct_ms),
        ("agent CallTool(whoami)", agent_ms),
    ):
        summaries[name] = summary = summarize_latencies(latencies)
        rows.append([name, str(len(latencies)), *(f"{summary[k]:.2f}" for k in ("p50", "p90", "p99", "max"))])
    ratio = summaries["agent CallTool(whoami)"]["p50"] / summaries["direct MCP call_tool(whoami)"]["p50"]
    rows[-1].append(f"{ratio:.2f}")
    rows[0].append("1.00")
    report.facts["agent"] = {**summaries, "p50_ratio": round(ratio, 3)}
    report.section(
        "agent CallTool(whoami) against a direct MCP call, both warm, one call at a time",
        ["path", "calls", "p50 ms", "p90 ms", "p99 ms", "max ms", "p50 / direct p50"],
        rows,
    )
    report.target("agent CallTool p50 <= 1.5x the direct MCP call's p50", f"{ratio:.2f}x", ratio <= 1.5)


async def _sequential(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    for _ in range(WARMUP_CALLS):
        await call()
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def summarize_latencies(latencies: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max of latencies in ms (nearest rank)."""
    ordered = sorted(latencies)

    def rank(percent: float) -> float:
        return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * percent / 100 + 0.999999) - 1))]

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": ordered[-1]}
