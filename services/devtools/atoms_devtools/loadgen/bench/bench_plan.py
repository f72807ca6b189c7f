"""BenchPlan: how long and how hard each part of `make bench` runs, and the report it fills."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from atoms_devtools.loadgen.load_result import LoadResult
from atoms_devtools.loadgen.load_runner import run_load
from atoms_devtools.loadgen.load_spec import LoadSpec

AUTH_METHOD = "atoms.auth.v1.AuthService/ValidateToken"
AGENT_METHOD = "atoms.agent.v1.AgentService/CallTool"
ANY_TOKEN = "any"  # noqa: S105 - what the ceiling is sent; it never looks


@dataclass(frozen=True, slots=True)
class BenchPlan:
    """Durations and sizes; `quick()` is the smoke run the test suite uses."""

    warmup_s: float = 2.0
    duration_s: float = 6.0
    concurrency: int = 50
    client_processes: int = 1
    cold_pool: int = 40_000
    rate_cold_pool: int = 40_000
    memory_tokens: int = 200_000
    agent_calls: int = 300
    restart_rate: float = 20.0
    restart_duration_s: float = 12.0
    random_kid_calls: int = 1000
    mint_processes: int = 2
    user_counts: tuple[int, ...] = (100, 1_000, 10_000)
    users_concurrency: int = 20
    users_repeat_s: float = 30.0  # every row's repeat calls run this long, cycling over its users
    naive_calls: int = 300
    cli_runs: int = 15  # runs of each `atoms` command in the start-up section
    tracing_rounds: int = 2  # off-then-on pairs of the tracing section, the order alternating
    tracing_batch_delay_ms: int = 500  # OTEL_BSP_SCHEDULE_DELAY of the traced services

    @classmethod
    def quick(cls) -> BenchPlan:
        """Seconds instead of minutes: every part runs, the figures mean little."""
        return cls(
            warmup_s=0.2,
            duration_s=0.6,
            concurrency=8,
            cold_pool=1000,
            rate_cold_pool=1000,
            memory_tokens=1000,
            agent_calls=10,
            restart_rate=10.0,
            restart_duration_s=4.0,
            random_kid_calls=50,
            mint_processes=1,
            user_counts=(10,),
            users_repeat_s=0.5,
            naive_calls=5,
            cli_runs=2,
            tracing_rounds=1,
            tracing_batch_delay_ms=100,
        )

    def with_memory_tokens(self, count: int | None) -> BenchPlan:
        """The same plan with another memory pool size (None keeps it)."""
        return self if count is None else replace(self, memory_tokens=count)


@dataclass
class BenchReport:
    """Everything measured: load results by name, table sections, target verdicts."""

    results: dict[str, LoadResult] = field(default_factory=dict)
    sections: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    targets: list[tuple[str, str, bool | None]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def section(self, title: str, header: list[str], rows: list[list[str]]) -> None:
        """Add a table section."""
        self.sections.append((title, header, rows))

    def target(self, text: str, measured: str, met: bool | None) -> None:
        """Record a performance target and whether this run met it (None: not measured)."""
        self.targets.append((text, measured, met))


async def measure(
    report: BenchReport, spec: LoadSpec, *, on_start: Callable[[float], None] | None = None
) -> LoadResult:
    """Run one load spec in its own processes (off the event loop), print and keep the result."""
    result = await asyncio.to_thread(run_load, spec, on_start=on_start)
    report.results[spec.name] = result
    print(f"  {result.summary_line()}", flush=True)
    return result
