"""ValidateToken under the same load: the ceiling, the reference, and the auth service's four cases.

Closed loop first (a fixed number of calls in flight: throughput), then open loop at half
the ceiling's throughput (latency at a load the machine can carry), then 1 against 2
workers. The ceiling is measured at the start and at the end of the closed-loop runs; the
ratios use their mean, and the drift between them says how steady the machine was.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from atoms_devtools.loadgen.bench.bench_plan import ANY_TOKEN, AUTH_METHOD, BenchPlan, BenchReport, measure
from atoms_devtools.loadgen.bench.bench_stack import AuthHandle, BenchStack, ServerHandle
from atoms_devtools.loadgen.bench.token_pools import mint_pool, mint_tokens
from atoms_devtools.loadgen.load_result import LoadResult
from atoms_devtools.loadgen.load_spec import LoadSpec, TokenPool


@dataclass(frozen=True, slots=True)
class Tokens:
    """What the ValidateToken runs send."""

    internal: str
    warm: str
    invalid: str
    cold: Path
    rate_cold: Path


async def prepare_tokens(stack: BenchStack, plan: BenchPlan) -> Tokens:
    """Mint the warm token, a tampered one, and the cold pools (each token used once)."""
    warm = mint_tokens(stack.keys_file, issuer=stack.issuer, count=1, tag="warm")[0]
    head, _, signature = warm.rpartition(".")
    tampered = f"{head}.{signature[:-6]}{'AAAAAA' if not signature.endswith('AAAAAA') else 'BBBBBB'}"
    cold = mint_pool(
        stack.keys_file,
        issuer=stack.issuer,
        count=plan.cold_pool,
        path=stack.workdir / "cold.tokens",
        processes=plan.mint_processes,
        tag="cold",
    )
    rate_cold = mint_pool(
        stack.keys_file,
        issuer=stack.issuer,
        count=plan.rate_cold_pool,
        path=stack.workdir / "rate-cold.tokens",
        processes=plan.mint_processes,
        tag="ratecold",
    )
    return Tokens(stack.internal_token, warm, tampered, cold, rate_cold)


def base_spec(plan: BenchPlan, target: str, name: str, *, server_pid: int) -> LoadSpec:
    """ValidateToken with the plan's load; the token goes in the request's `token` field."""
    return LoadSpec(
        target=target,
        method=AUTH_METHOD,
        token_field="token",  # noqa: S106 - a request field name
        concurrency=plan.concurrency,
        processes=plan.client_processes,
        warmup_s=plan.warmup_s,
        duration_s=plan.duration_s,
        name=name,
        server_pid=server_pid,
    )


def _auth_cases(tokens: Tokens, *, rate: bool) -> list[tuple[str, dict[str, Any]]]:
    cold = tokens.rate_cold if rate else tokens.cold
    return [
        ("auth, internal token", {"token": tokens.internal}),
        ("auth, warm JWT", {"token": tokens.warm}),
        ("auth, cold JWTs", {"tokens": TokenPool(cold, reuse=False)}),
        ("auth, invalid token", {"token": tokens.invalid, "expect": "UNAUTHENTICATED"}),
    ]


async def run_closed_loop(
    report: BenchReport,
    plan: BenchPlan,
    *,
    ceiling: ServerHandle,
    reference: ServerHandle,
    auth: AuthHandle,
    tokens: Tokens,
) -> None:
    """Throughput at a fixed number of calls in flight, every case under the same load."""
    print(f"ValidateToken, closed loop, {plan.concurrency} calls in flight", flush=True)
    runs: list[tuple[str, LoadSpec]] = [
        (
            "ceiling (start)",
            replace(base_spec(plan, ceiling.address, "", server_pid=_pid(ceiling)), token=ANY_TOKEN),
        ),
        (
            "reference (PyJWKClient)",
            replace(base_spec(plan, reference.address, "", server_pid=_pid(reference)), token=tokens.warm),
        ),
    ]
    for name, fields in _auth_cases(tokens, rate=False):
        runs.append(
            (name, replace(base_spec(plan, auth.address, "", server_pid=auth.process.process.pid), **fields))
        )
    runs.append(("ceiling (end)", runs[0][1]))
    results = {}
    for name, spec in runs:
        results[name] = await measure(report, replace(spec, name=f"closed {name}"))
    ceiling_rps = (results["ceiling (start)"].rps + results["ceiling (end)"].rps) / 2
    reference_rps = results["reference (PyJWKClient)"].rps
    report.facts["ceiling_rps"] = ceiling_rps
    report.facts["ceiling_drift"] = _drift(results["ceiling (start)"].rps, results["ceiling (end)"].rps)
    rows = [_closed_row(name, result, ceiling_rps, reference_rps) for name, result in results.items()]
    report.section(
        f"ValidateToken, closed loop: {plan.concurrency} calls in flight, {plan.client_processes} client "
        f"process, {plan.warmup_s:g} s warm-up, {plan.duration_s:g} s window",
        [
            "case",
            "calls/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "errors",
            "server CPU us/call",
            "x ceiling",
            "x reference",
        ],
        rows,
    )
    _closed_targets(report, results, ceiling_rps)


async def run_fixed_rate(
    report: BenchReport, plan: BenchPlan, *, ceiling: ServerHandle, auth: AuthHandle, tokens: Tokens
) -> None:
    """Latency at half the ceiling's throughput (open loop: latency counts from the scheduled send)."""
    rate = round(report.facts["ceiling_rps"] / 2)
    print(f"ValidateToken, open loop at {rate} calls/s", flush=True)
    runs = [
        ("ceiling", replace(base_spec(plan, ceiling.address, "", server_pid=_pid(ceiling)), token=ANY_TOKEN))
    ]
    for name, fields in _auth_cases(tokens, rate=True):
        runs.append(
            (name, replace(base_spec(plan, auth.address, "", server_pid=auth.process.process.pid), **fields))
        )
    results = {}
    for name, spec in runs:
        results[name] = await measure(report, replace(spec, name=f"rate {name}", rate=float(rate)))
    ceiling_p99 = results["ceiling"].p99_ms
    rows = [
        [
            name,
            f"{r.rps:,.0f}",
            f"{r.p50_ms:.2f}",
            f"{r.p90_ms:.2f}",
            f"{r.p99_ms:.2f}",
            f"{r.max_ms:.2f}",
            str(r.errors),
            _cpu(r),
            f"{r.p99_ms / ceiling_p99:.2f}" if ceiling_p99 else "-",
        ]
        for name, r in results.items()
    ]
    report.section(
        f"ValidateToken, open loop at {rate:,} calls/s (half the ceiling's throughput)",
        [
            "case",
            "calls/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "errors",
            "server CPU us/call",
            "p99 / ceiling p99",
        ],
        rows,
    )
    for name in ("auth, internal token", "auth, warm JWT", "auth, cold JWTs", "auth, invalid token"):
        r = results[name]
        met = r.errors == 0 and r.p99_ms <= 1.5 * ceiling_p99
        report.target(
            f"{name} at {rate:,}/s: p99 <= 1.5x ceiling p99, no errors",
            f"p99 {r.p99_ms:.2f} ms vs {ceiling_p99:.2f} ms ({r.p99_ms / ceiling_p99:.2f}x), "
            f"{r.errors} errors",
            met,
        )


async def run_workers(
    report: BenchReport, plan: BenchPlan, *, stack: BenchStack, auth: AuthHandle, tokens: Tokens
) -> None:
    """The same warm-JWT load (several connections, so SO_REUSEPORT can spread them) on 1 and 2 workers."""
    print("auth service with 1 and 2 workers", flush=True)
    pool = await stack.start_auth("auth-2-workers", workers=2)
    try:
        results: dict[int, LoadResult] = {}
        for workers, handle in ((1, auth), (2, pool)):
            spec = replace(
                base_spec(plan, handle.address, f"workers {workers}", server_pid=handle.process.process.pid),
                token=tokens.warm,
                connections=8,
            )
            results[workers] = await measure(report, spec)
    finally:
        await stack.stop(pool.process)
    rows = [
        [
            str(w),
            f"{r.rps:,.0f}",
            f"{r.p50_ms:.2f}",
            f"{r.p99_ms:.2f}",
            str(r.errors),
            _cpu(r),
            f"{r.rps / results[1].rps:.2f}",
        ]
        for w, r in results.items()
    ]
    report.section(
        "auth service, warm JWT, --workers 1 and 2 (8 connections, SO_REUSEPORT), same client",
        ["workers", "calls/s", "p50 ms", "p99 ms", "errors", "server CPU us/call", "x 1 worker"],
        rows,
    )
    report.target(
        "--workers N runs N processes on one port; throughput with 1 and 2 workers shown",
        f"{results[1].rps:,.0f} vs {results[2].rps:,.0f} calls/s ({results[2].rps / results[1].rps:.2f}x)",
        True,
    )


def _closed_row(name: str, r: LoadResult, ceiling_rps: float, reference_rps: float) -> list[str]:
    return [
        name,
        f"{r.rps:,.0f}",
        f"{r.p50_ms:.2f}",
        f"{r.p90_ms:.2f}",
        f"{r.p99_ms:.2f}",
        f"{r.max_ms:.2f}",
        str(r.errors),
        _cpu(r),
        f"{r.rps / ceiling_rps:.2f}",
        f"{r.rps / reference_rps:.2f}" if reference_rps else "-",
    ]


def _closed_targets(report: BenchReport, results: dict[str, LoadResult], ceiling_rps: float) -> None:
    for name, floor in (("auth, warm JWT", 0.9), ("auth, internal token", 0.9), ("auth, cold JWTs", 0.8)):
        ratio = results[name].rps / ceiling_rps
        report.target(f"{name}: >= {floor}x the ceiling's throughput", f"{ratio:.2f}x", ratio >= floor)


def _cpu(result: LoadResult) -> str:
    return f"{result.server_cpu_us_per_call:.0f}" if result.server_cpu_us_per_call else "-"


def _drift(first: float, last: float) -> float:
    return round(abs(first - last) / max(first, last), 3) if max(first, last) else 0.0


def _pid(handle: ServerHandle) -> int:
    return handle.process.process.pid
