"""The agent at scale: CallTool(atoms, whoami) for many distinct users, first and repeat calls.

A fresh Atoms MCP service and agent; for each row, a new set of users, each with their own
AuthKit-shaped token (a distinct `sub`, in 97 organizations). Every user calls once (the first
call: a token nobody has seen, a user the agent holds nothing for), then every user calls
again (the repeat call), both closed loop at the same concurrency through the agent's gRPC
API. The agent's resident memory is read after each run; rows add users, so the last row's
memory holds every user of the section. Beside each row, the naive design: a new MCP session
per call (what an agent without a pool does), from the bench process straight to the Atoms
MCP with the same users' tokens, without the agent hop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client

from atoms_devtools.loadgen.bench.bench_plan import AGENT_METHOD, BenchPlan, BenchReport, measure
from atoms_devtools.loadgen.bench.bench_stack import AuthHandle, BenchStack, ServerHandle
from atoms_devtools.loadgen.bench.token_pools import mint_pool, mint_tokens, write_pool
from atoms_devtools.loadgen.load_result import LoadResult
from atoms_devtools.loadgen.load_spec import LoadSpec, TokenPool
from atoms_devtools.loadgen.process_usage import rss_bytes

WHOAMI = '{"server_name": "atoms", "tool_name": "whoami"}'
_WARMUP_USERS = 20
_MB = 1024 * 1024
_KB = 1000
MEMORY_GOAL_KB_PER_USER = 50
SCALE_USERS = 10_000
SCALE_DEADLINE_S = 300.0
SCALE_RSS_LIMIT_MB = 500


@dataclass(frozen=True, slots=True)
class NaiveResult:
    """The naive design's run: calls made, errors, calls per second, latency percentiles."""

    calls: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class UsersRow:
    """One row: `users` new users, their first and repeat calls, the agent's memory, the naive design."""

    users: int
    first: LoadResult
    repeat: LoadResult
    rss_before: int
    rss_after: int
    elapsed_s: float
    naive: NaiveResult

    @property
    def kb_per_user(self) -> float:
        """The agent's resident memory growth over this row, per new user."""
        return (self.rss_after - self.rss_before) / _KB / self.users


async def run_users(report: BenchReport, plan: BenchPlan, *, stack: BenchStack, auth: AuthHandle) -> None:
    """Start a fresh Atoms MCP and agent, then one row per user count of the plan."""
    print(
        f"users: CallTool(whoami) for {', '.join(f'{n:,}' for n in plan.user_counts)} distinct users",
        flush=True,
    )
    mcp_url = await stack.start_mcp(auth)
    agent = await stack.start_agent_server(auth, mcp_url)
    await _warm(plan, stack, agent)
    rows = []
    for users in plan.user_counts:
        rows.append(await _row(report, plan, stack=stack, agent=agent, mcp_url=mcp_url, users=users))
    await stack.stop(agent.process)
    _report(report, plan, rows)


async def _warm(plan: BenchPlan, stack: BenchStack, agent: ServerHandle) -> None:
    """A few users first: connections opened, the MCP's protocol version learnt, code paths warm."""
    tokens = mint_tokens(stack.keys_file, issuer=stack.issuer, count=_WARMUP_USERS, tag="users-warm")
    pool = await asyncio.to_thread(write_pool, stack.workdir / "users-warm.tokens", tokens)
    await measure(BenchReport(), _spec(plan, agent, pool, name="users: warm-up"))


async def _row(
    report: BenchReport, plan: BenchPlan, *, stack: BenchStack, agent: ServerHandle, mcp_url: str, users: int
) -> UsersRow:
    pool = await asyncio.to_thread(
        mint_pool,
        stack.keys_file,
        issuer=stack.issuer,
        count=users,
        path=stack.workdir / f"users-{users}.tokens",
        processes=plan.mint_processes,
        tag=f"users{users}",
    )
    pid = agent.process.process.pid
    rss_before = rss_bytes(pid)
    began = time.monotonic()
    first = await measure(report, _spec(plan, agent, pool, name=f"users: {users:,} users, first calls"))
    repeat = await measure(
        report,
        _spec(plan, agent, pool, name=f"users: {users:,} users, repeat calls", repeat_s=plan.users_repeat_s),
    )
    elapsed_s = time.monotonic() - began
    rss_after = rss_bytes(pid)
    naive = await _naive(
        mcp_url, pool, calls=min(users, plan.naive_calls), concurrency=plan.users_concurrency
    )
    print(
        f"  agent RSS {rss_before / _MB:.1f} -> {rss_after / _MB:.1f} MB; naive design: {naive.calls} calls, "
        f"{naive.rps:.1f} calls/s, p50 {naive.p50_ms:.0f} ms, errors {naive.errors}",
        flush=True,
    )
    return UsersRow(users, first, repeat, rss_before, rss_after, elapsed_s, naive)


def _spec(
    plan: BenchPlan, agent: ServerHandle, pool: Path, *, name: str, repeat_s: float | None = None
) -> LoadSpec:
    """Closed loop. First calls: each token once, the run ends when every user has called.

    Repeat calls (`repeat_s`): the users' tokens in turn for `repeat_s` seconds, the same length
    in every row, so that each row's p99 covers the same stretch of time (a 100-user pass alone
    lasts a third of a second and would miss every periodic pause a longer pass sees).
    """
    return LoadSpec(
        target=agent.address,
        method=AGENT_METHOD,
        request_json=WHOAMI,
        tokens=TokenPool(pool, reuse=repeat_s is not None),
        token_metadata="authorization",  # noqa: S106 - a metadata key
        concurrency=plan.users_concurrency,
        warmup_s=0.0,
        duration_s=repeat_s or 0.0,
        timeout_s=30.0,
        name=name,
        server_pid=agent.process.process.pid,
    )


async def _naive(mcp_url: str, pool: Path, *, calls: int, concurrency: int) -> NaiveResult:
    """The naive design: each call opens its own HTTP client and MCP session, calls, and closes them."""
    tokens = (await asyncio.to_thread(pool.read_text, encoding="utf-8")).split()[:calls]
    queue: asyncio.Queue[str] = asyncio.Queue()
    for token in tokens:
        queue.put_nowait(token)
    latencies: list[float] = []
    errors = 0

    async def caller() -> None:
        nonlocal errors
        while not queue.empty():
            token = queue.get_nowait()
            started = time.perf_counter()
            try:
                async with (
                    httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30.0) as http,
                    mcp.Client(streamable_http_client(mcp_url, http_client=http)) as client,
                ):
                    result = await client.call_tool("whoami", {})
                errors += int(result.is_error)
            except Exception:  # counted: the table reports errors
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(min(concurrency, len(tokens)))))
    wall = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]
    return NaiveResult(
        calls=len(latencies),
        errors=errors,
        rps=len(latencies) / wall if wall else 0.0,
        p50_ms=ordered[len(ordered) // 2],
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    )


def _report(report: BenchReport, plan: BenchPlan, rows: list[UsersRow]) -> None:
    report.facts["users"] = [
        {
            "users": row.users,
            "first_rps": round(row.first.rps, 1),
            "first_p50_ms": row.first.p50_ms,
            "first_p99_ms": row.first.p99_ms,
            "repeat_rps": round(row.repeat.rps, 1),
            "repeat_p50_ms": row.repeat.p50_ms,
            "repeat_p99_ms": row.repeat.p99_ms,
            "errors": row.first.errors + row.repeat.errors,
            "rss_before_mb": round(row.rss_before / _MB, 1),
            "rss_after_mb": round(row.rss_after / _MB, 1),
            "kb_per_user": round(row.kb_per_user, 1),
            "elapsed_s": round(row.elapsed_s, 1),
            "naive": {
                "calls": row.naive.calls,
                "rps": round(row.naive.rps, 1),
                "p50_ms": row.naive.p50_ms,
                "p99_ms": row.naive.p99_ms,
                "errors": row.naive.errors,
            },
        }
        for row in rows
    ]
    report.section(
        f"the agent at scale: CallTool(atoms, whoami) through the agent, every user with their own token, "
        f"{plan.users_concurrency} concurrent callers; naive = a new MCP session per call",
        [
            "users",
            "first calls/s",
            "first p50 / p99 ms",
            "repeat calls/s",
            "repeat p50 / p99 ms",
            "first / repeat",
            "errors",
            "agent RSS MB",
            "KB per user",
            "naive calls/s",
            "naive p50 ms",
        ],
        [
            [
                f"{row.users:,}",
                f"{row.first.rps:,.0f}",
                f"{row.first.p50_ms:.1f} / {row.first.p99_ms:.1f}",
                f"{row.repeat.rps:,.0f}",
                f"{row.repeat.p50_ms:.1f} / {row.repeat.p99_ms:.1f}",
                f"{row.first.rps / row.repeat.rps:.2f}" if row.repeat.rps else "-",
                str(row.first.errors + row.repeat.errors),
                f"{row.rss_before / _MB:.0f} -> {row.rss_after / _MB:.0f}",
                f"{row.kb_per_user:.1f}",
                f"{row.naive.rps:.1f} ({row.naive.calls} calls)",
                f"{row.naive.p50_ms:.0f}",
            ]
            for row in rows
        ],
    )
    _targets(report, rows)


def _targets(report: BenchReport, rows: list[UsersRow]) -> None:
    largest, smallest = rows[-1], rows[0]
    report.target(
        f"agent memory per active user <= {MEMORY_GOAL_KB_PER_USER} KB ({largest.users:,} new users)",
        f"{largest.kb_per_user:.1f} KB",
        largest.kb_per_user <= MEMORY_GOAL_KB_PER_USER,
    )
    ratios = [row.first.rps / row.repeat.rps for row in rows if row.repeat.rps]
    report.target(
        "first-call throughput >= 0.5x repeat-call throughput, same concurrency (every row)",
        ", ".join(f"{ratio:.2f}x" for ratio in ratios),
        bool(ratios) and min(ratios) >= 0.5,
    )
    if largest.users < SCALE_USERS:
        report.target(f"{SCALE_USERS:,} distinct users within 5 minutes", "not run (fewer users)", None)
        return
    errors = largest.first.errors + largest.repeat.errors
    rss_mb = largest.rss_after / _MB
    p99_ratio = largest.repeat.p99_ms / smallest.repeat.p99_ms if smallest.repeat.p99_ms else float("inf")
    report.target(
        f"{largest.users:,} distinct users within 5 minutes: zero errors, agent RSS < "
        f"{SCALE_RSS_LIMIT_MB} MB, repeat p99 <= 1.5x the {smallest.users:,}-user p99",
        f"{largest.elapsed_s:.0f} s, {errors} errors, {rss_mb:.0f} MB, p99 {p99_ratio:.2f}x",
        largest.elapsed_s <= SCALE_DEADLINE_S
        and errors == 0
        and rss_mb < SCALE_RSS_LIMIT_MB
        and p99_ratio <= 1.5,
    )
