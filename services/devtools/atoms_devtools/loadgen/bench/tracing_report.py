"""The tracing section's figures: each run kept by workload and mode, summed, and printed side by side."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from atoms_devtools.loadgen.bench.bench_plan import BenchPlan, BenchReport

SAMPLER = "always_on"
AUTH_WARM = "auth ValidateToken, warm JWT"
AGENT_LOAD = "agent CallTool(whoami)"
AGENT_ONE = "agent CallTool(whoami), one at a time"
WORKLOADS = (AUTH_WARM, AGENT_LOAD, AGENT_ONE)
MODES = ("off", "on")


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One workload's run in one phase."""

    calls_sent: int  # warm-up included
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_s: float = 0.0
    spans: dict[str, int] = field(default_factory=dict)  # by service.name


@dataclass
class TracingRuns:
    """What the section measured: each run by workload and mode, the spans of each phase."""

    runs: dict[tuple[str, str], list[RunFigures]] = field(default_factory=dict)
    phases: list[dict[str, Any]] = field(default_factory=list)

    def add(self, workload: str, mode: str, figures: RunFigures) -> None:
        """Keep one run."""
        self.runs.setdefault((workload, mode), []).append(figures)

    def summary(self, workload: str, mode: str) -> dict[str, Any]:
        """The mode's runs of `workload`: mean rate and percentiles; calls, CPU and spans summed."""
        figures = self.runs.get((workload, mode), [])
        count = max(1, len(figures))
        calls = sum(f.calls_sent for f in figures)
        spans: Counter[str] = Counter()
        for f in figures:
            spans.update(f.spans)
        return {
            "runs_rps": [f.rps for f in figures],
            "rps": sum(f.rps for f in figures) / count,
            "p50_ms": sum(f.p50_ms for f in figures) / count,
            "p99_ms": sum(f.p99_ms for f in figures) / count,
            "errors": sum(f.errors for f in figures),
            "calls_sent": calls,
            "cpu_us_per_call": sum(f.cpu_s for f in figures) / calls * 1e6 if calls else 0.0,
            "spans": sum(spans.values()),
            "spans_per_call": sum(spans.values()) / calls if calls else 0.0,
            "spans_by_service": dict(sorted(spans.items())),
        }

    def spans_in(self, mode: str) -> int:
        """Spans received during the phases of `mode`, start and shutdown included."""
        return sum(sum(phase["spans"].values()) for phase in self.phases if phase["mode"] == mode)


def report_tracing(report: BenchReport, plan: BenchPlan, runs: TracingRuns, receiver_cpu_s: float) -> None:
    """Add the side-by-side section, the spans by service, the facts and the targets."""
    summaries = {w: {mode: runs.summary(w, mode) for mode in MODES} for w in WORKLOADS}
    report.section(
        f"tracing off and on ({SAMPLER} sampler, OTLP/gRPC to a local receiver), same load: ValidateToken "
        f"{plan.concurrency} in flight, CallTool {plan.users_concurrency} in flight and one at a time; "
        f"{plan.tracing_rounds} round(s) in alternating order, {plan.warmup_s:g} s warm-up, "
        f"{plan.duration_s:g} s window",
        [
            "workload",
            "calls/s off / on",
            "on / off",
            "p50 ms off / on",
            "p50 change",
            "p99 ms off / on",
            "p99 change",
            "services CPU us/call off / on",
            "errors",
            "spans off",
            "spans on (per call)",
        ],
        [_row(w, s["off"], s["on"]) for w, s in summaries.items()],
    )
    report.section(
        f"tracing on: spans per call by service (the receiver used {receiver_cpu_s:.1f} s of CPU in all)",
        ["workload", "spans per call by service"],
        [[w, _per_service(s["on"])] for w, s in summaries.items()],
    )
    report.facts["tracing"] = {
        "sampler": SAMPLER,
        "batch_delay_ms": plan.tracing_batch_delay_ms,
        "rounds": plan.tracing_rounds,
        "receiver_cpu_s": round(receiver_cpu_s, 2),
        "phases": runs.phases,
        "spans_off": runs.spans_in("off"),
        "spans_on": runs.spans_in("on"),
        "workloads": summaries,
    }
    _targets(report, runs, summaries)


def _targets(report: BenchReport, runs: TracingRuns, summaries: dict[str, dict[str, dict[str, Any]]]) -> None:
    off_phases = sum(1 for phase in runs.phases if phase["mode"] == "off")
    report.target(
        "tracing off: no span reaches the receiver",
        f"{runs.spans_in('off')} spans in {off_phases} phase(s)",
        runs.spans_in("off") == 0,
    )
    per_call = [s["on"]["spans_per_call"] for s in summaries.values()]
    report.target(
        "tracing on (100% sampler): every call traced (at least one span per call)",
        ", ".join(f"{value:.2f}" for value in per_call) + " spans per call",
        all(value >= 1 for value in per_call),
    )
    report.target(
        "tracing on (100% sampler): throughput on / off, reported",
        ", ".join(f"{w} {_ratio(s['on']['rps'], s['off']['rps'])}" for w, s in summaries.items()),
        None,
    )


def _row(workload: str, off: dict[str, Any], on: dict[str, Any]) -> list[str]:
    return [
        workload,
        f"{off['rps']:,.0f} / {on['rps']:,.0f}",
        _ratio(on["rps"], off["rps"]),
        f"{off['p50_ms']:.2f} / {on['p50_ms']:.2f}",
        _change(off["p50_ms"], on["p50_ms"]),
        f"{off['p99_ms']:.2f} / {on['p99_ms']:.2f}",
        _change(off["p99_ms"], on["p99_ms"]),
        f"{off['cpu_us_per_call']:.0f} / {on['cpu_us_per_call']:.0f}",
        str(off["errors"] + on["errors"]),
        f"{off['spans']:,}",
        f"{on['spans']:,} ({on['spans_per_call']:.2f})",
    ]


def _per_service(summary: dict[str, Any]) -> str:
    calls = summary["calls_sent"] or 1
    spans: dict[str, int] = summary["spans_by_service"]
    return ", ".join(f"{service} {count / calls:.2f}" for service, count in spans.items()) or "none"


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "-"


def _change(before: float, after: float) -> str:
    percent = f" ({(after - before) / before:+.0%})" if before else ""
    return f"{after - before:+.2f} ms{percent}"
