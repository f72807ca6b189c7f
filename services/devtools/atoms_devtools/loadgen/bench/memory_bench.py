"""The auth service's resident memory while it validates many distinct tokens, each once.

A fresh auth service (default settings: a verified-token cache of 100,000 entries) gets a
pool of distinct valid tokens, each sent once, and its RSS is sampled twice a second with
the cache's size and the count of validations (from its /metrics). The figures: RSS before,
when the cache first holds its maximum, and at the end; "flat once full" compares the last
two. Minting is the slow part (an RS256 signature is 0.25 ms): `make bench` uses 200,000
tokens, `make bench-memory` one million.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from atoms_devtools.loadgen.bench.bench_plan import AUTH_METHOD, BenchPlan, BenchReport, measure
from atoms_devtools.loadgen.bench.bench_stack import AuthHandle, BenchStack, metric_sum, scrape_metrics
from atoms_devtools.loadgen.bench.token_pools import mint_pool
from atoms_devtools.loadgen.load_spec import LoadSpec, TokenPool
from atoms_devtools.loadgen.process_usage import peak_rss_bytes, rss_bytes

CACHE_MAX_ENTRIES = 100_000  # the auth service's default token_cache.max_entries
_SAMPLE_EVERY_S = 0.5
_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MemorySample:
    """One reading: validations so far, cache entries, resident bytes."""

    validated: float
    entries: float
    rss: int


async def run_memory(report: BenchReport, plan: BenchPlan, *, stack: BenchStack) -> None:
    """Mint the pool, start a fresh auth service, send every token once, sample RSS throughout."""
    count = plan.memory_tokens
    print(f"memory: minting {count:,} distinct tokens", flush=True)
    pool = await asyncio.to_thread(
        mint_pool,
        stack.keys_file,
        issuer=stack.issuer,
        count=count,
        path=stack.workdir / "memory.tokens",
        processes=plan.mint_processes,
        tag="memory",
    )
    auth = await stack.start_auth("auth-memory")
    pid = auth.process.process.pid
    samples: list[MemorySample] = [await _sample(auth, pid)]
    sampler = asyncio.ensure_future(_sample_forever(auth, pid, samples))
    spec = LoadSpec(
        target=auth.address,
        method=AUTH_METHOD,
        token_field="token",  # noqa: S106 - a request field name
        tokens=TokenPool(pool, reuse=False),
        concurrency=plan.concurrency,
        warmup_s=0.0,
        duration_s=0.0,
        name=f"memory: {count:,} distinct tokens",
        server_pid=pid,
    )
    try:
        result = await measure(report, spec)
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    samples.append(await _sample(auth, pid))
    peak = peak_rss_bytes(pid)
    await stack.stop(auth.process)
    _report(report, samples, peak, result.errors, count)


def _report(report: BenchReport, samples: list[MemorySample], peak: int, errors: int, count: int) -> None:
    first, last = samples[0], samples[-1]
    full = next((s for s in samples if s.entries >= CACHE_MAX_ENTRIES), None)
    per_entry = (full or last).rss - first.rss
    entries = (full or last).entries
    growth = (last.rss - full.rss) / full.rss if full else None
    report.facts["memory"] = {
        "tokens": count,
        "validated": last.validated,
        "rss_start_mb": round(first.rss / _MB, 1),
        "rss_when_full_mb": round(full.rss / _MB, 1) if full else None,
        "rss_end_mb": round(last.rss / _MB, 1),
        "peak_mb": round(peak / _MB, 1),
        "bytes_per_entry": round(per_entry / entries) if entries else None,
        "growth_after_full": round(growth, 4) if growth is not None else None,
        "samples": [(s.validated, s.entries, s.rss) for s in samples],
    }
    report.section(
        f"auth service memory: {count:,} distinct valid tokens, each validated once "
        f"(cache max {CACHE_MAX_ENTRIES:,})",
        [
            "validated",
            "cache entries",
            "RSS start MB",
            "RSS when cache full MB",
            "RSS end MB",
            "peak MB",
            "bytes/entry",
            "growth after full",
            "errors",
        ],
        [
            [
                f"{last.validated:,.0f}",
                f"{last.entries:,.0f}",
                f"{first.rss / _MB:.1f}",
                f"{full.rss / _MB:.1f}" if full else "not reached",
                f"{last.rss / _MB:.1f}",
                f"{peak / _MB:.1f}",
                f"{per_entry / entries:,.0f}" if entries else "-",
                f"{growth:+.1%}" if growth is not None else "-",
                str(errors),
            ]
        ],
    )
    report.target(
        f"memory after {count:,} distinct tokens < 300 MB, flat once the cache is full",
        f"end {last.rss / _MB:.0f} MB, peak {peak / _MB:.0f} MB"
        + (f", {growth:+.1%} after full" if growth is not None else ", cache never full"),
        peak < 300 * _MB and (growth is None or growth < 0.05),
    )


async def _sample_forever(auth: AuthHandle, pid: int, samples: list[MemorySample]) -> None:
    while True:
        await asyncio.sleep(_SAMPLE_EVERY_S)
        samples.append(await _sample(auth, pid))


async def _sample(auth: AuthHandle, pid: int) -> MemorySample:
    metrics = await scrape_metrics(auth)
    return MemorySample(
        validated=metric_sum(metrics, "atoms_auth_validations_total", kind="user", outcome="ok"),
        entries=metric_sum(metrics, "atoms_auth_token_cache_entries"),
        rss=rss_bytes(pid),
    )
