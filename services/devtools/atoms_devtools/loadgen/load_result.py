"""LoadResult: what a load run measured, merged from its processes, as a table row and as JSON."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class ProcessOutcome:
    """What one load process recorded in the measured window."""

    latencies_s: Sequence[float]
    outcomes: Mapping[tuple[str, str], int]
    window_s: float
    cpu_s: float
    exhausted: bool = False
    warmup_calls: int = 0


@dataclass(slots=True)
class LoadResult:
    """The merged measurement of one run. Latencies in milliseconds."""

    name: str
    mode: str
    concurrency: int
    rate: float
    processes: int
    connections: int
    window_s: float
    calls: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: int
    outcomes: dict[str, dict[str, int]]
    client_cpu_s: float
    tokens_exhausted: bool
    finished_at: str
    labels: dict[str, str] = field(default_factory=dict)
    server_cpu_s: float | None = None
    server_cpu_us_per_call: float | None = None
    warmup_calls: int = 0  # calls sent before the window opened (not in `calls`)
    extra: dict[str, Any] = field(default_factory=dict)

    def add_server_cpu(self, cpu_s: float) -> None:
        """Record the server's CPU seconds over the window, and per call."""
        self.server_cpu_s = round(cpu_s, 3)
        self.server_cpu_us_per_call = round(cpu_s / self.calls * 1e6, 1) if self.calls else None

    def ok_rps(self, expect: str = "OK") -> float:
        """Calls per second that expected `expect` and got it."""
        return self.outcomes.get(expect, {}).get(expect, 0) / self.window_s if self.window_s else 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def write(self, directory: Path) -> Path:
        """Write `<directory>/<name>.json` and return the path."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{_file_name(self.name)}.json"
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        return path

    def summary_line(self) -> str:
        """One human line: rps, percentiles, errors."""
        return (
            f"{self.name}: {self.calls} calls in {self.window_s:.1f}s, {self.rps:,.0f} calls/s, "
            f"p50 {self.p50_ms:.2f} ms, p90 {self.p90_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, "
            f"max {self.max_ms:.2f} ms, errors {self.errors}"
            + (
                f", server CPU {self.server_cpu_us_per_call:.0f} us/call"
                if self.server_cpu_us_per_call
                else ""
            )
            + (" (token pool ran out)" if self.tokens_exhausted else "")
        )


def merge(
    name: str, settings: Mapping[str, Any], parts: Iterable[ProcessOutcome], labels: Mapping[str, str]
) -> LoadResult:
    """Merge the processes' outcomes into one result.

    Args:
        name: the run's name.
        settings: mode, concurrency, rate, processes, connections of the spec.
        parts: one outcome per process.
        labels: free-form labels copied into the result.
    """
    parts = list(parts)
    latencies = sorted(value for part in parts for value in part.latencies_s)
    counts: Counter[tuple[str, str]] = Counter()
    for part in parts:
        counts.update(part.outcomes)
    outcomes: dict[str, dict[str, int]] = {}
    for (expect, actual), count in sorted(counts.items()):
        outcomes.setdefault(expect, {})[actual] = count
    window_s = max((part.window_s for part in parts), default=0.0)
    calls = len(latencies)
    return LoadResult(
        name=name,
        mode=str(settings["mode"]),
        concurrency=int(settings["concurrency"]),
        rate=float(settings["rate"]),
        processes=int(settings["processes"]),
        connections=int(settings["connections"]),
        window_s=round(window_s, 3),
        calls=calls,
        rps=round(calls / window_s, 1) if window_s else 0.0,
        p50_ms=_percentile_ms(latencies, 50),
        p90_ms=_percentile_ms(latencies, 90),
        p99_ms=_percentile_ms(latencies, 99),
        max_ms=round(latencies[-1] * 1000, 3) if latencies else 0.0,
        mean_ms=round(sum(latencies) / calls * 1000, 3) if calls else 0.0,
        errors=sum(count for (expect, actual), count in counts.items() if expect != actual),
        outcomes=outcomes,
        client_cpu_s=round(sum(part.cpu_s for part in parts), 3),
        tokens_exhausted=any(part.exhausted for part in parts),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        labels=dict(labels),
        warmup_calls=sum(part.warmup_calls for part in parts),
    )


def _percentile_ms(ordered: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile of sorted seconds, in milliseconds."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return round(ordered[rank - 1] * 1000, 3)


def _file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip("-") or "load"
