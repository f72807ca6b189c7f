"""run_load: start the load processes, give them one start instant, and merge what they measured."""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from atoms_devtools.loadgen.load_process import process_main
from atoms_devtools.loadgen.load_result import LoadResult, ProcessOutcome, merge
from atoms_devtools.loadgen.load_spec import LoadSpec
from atoms_devtools.loadgen.process_usage import cpu_seconds
from atoms_devtools.loadgen.target_probe import TargetUnreachableError, wait_until_reachable

_READY_TIMEOUT_S = 60.0
_PROBE_TIMEOUT_S = 10.0
_START_DELAY_S = 0.2


class LoadRunError(RuntimeError):
    """A load process failed or did not report (the message says which and why)."""


def run_load(spec: LoadSpec, *, on_start: Callable[[float], None] | None = None) -> LoadResult:
    """Run one load spec to the end and return the merged result.

    Blocking: call it through `asyncio.to_thread` from async code.

    Args:
        spec: what to send, how hard, how long.
        on_start: called with the run's start instant (`time.monotonic()` scale, shared by
            every process on this machine); the measured window opens `spec.warmup_s` later.

    Raises:
        LoadSpecError: the spec is inconsistent.
        LoadRunError: nothing answers at the target, or a process failed to connect, crashed
            or did not finish in time.
    """
    spec.check()
    try:
        wait_until_reachable(spec.target, timeout_s=_PROBE_TIMEOUT_S)
    except TargetUnreachableError as err:
        raise LoadRunError(str(err)) from err
    context = multiprocessing.get_context("spawn")  # no fork: gRPC's threads do not survive one
    ready: Any = context.Queue()
    results: Any = context.Queue()
    go = context.Event()
    start_at: Any = context.Value("d", 0.0)
    processes = [
        context.Process(
            target=process_main, args=(spec, part, ready, go, start_at, results), name=f"loadgen-{part}"
        )
        for part in range(spec.processes)
    ]
    for process in processes:
        process.start()
    sampler: _ServerCpuSampler | None = None
    try:
        _wait_until_ready(ready, results, spec.processes)
        start_at.value = time.monotonic() + _START_DELAY_S
        go.set()
        if spec.server_pid:
            sampler = _ServerCpuSampler(spec, start_at.value)
        if on_start is not None:
            on_start(start_at.value)
        outcomes = _collect(results, spec)
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
    settings = {
        "mode": spec.mode,
        "concurrency": spec.concurrency,
        "rate": spec.rate,
        "processes": spec.processes,
        "connections": spec.connections,
    }
    result = merge(spec.name, settings, outcomes, spec.labels)
    if sampler is not None:
        result.add_server_cpu(sampler.finish())
    return result


class _ServerCpuSampler:
    """Reads the server's CPU time when the window opens and when it closes (or when the run ends)."""

    def __init__(self, spec: LoadSpec, start: float) -> None:
        self._pid = spec.server_pid
        self._opens = start + spec.warmup_s
        self._closes = self._opens + spec.duration_s if spec.duration_s > 0 else None
        self._samples: list[float] = []
        self._thread = threading.Thread(target=self._sample, name="server-cpu-sampler", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        time.sleep(max(0.0, self._opens - time.monotonic()))
        self._samples.append(cpu_seconds(self._pid))
        if self._closes is not None:
            time.sleep(max(0.0, self._closes - time.monotonic()))
            self._samples.append(cpu_seconds(self._pid))

    def finish(self) -> float:
        """The server's CPU seconds inside the window."""
        self._thread.join()
        if len(self._samples) < 2:
            self._samples.append(cpu_seconds(self._pid))
        return self._samples[1] - self._samples[0]


def _wait_until_ready(ready: Any, results: Any, count: int) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    seen: set[int] = set()
    while len(seen) < count:
        _raise_early_failure(results)
        if time.monotonic() > deadline:
            raise LoadRunError(f"only {len(seen)} of {count} load processes connected in time")
        try:
            seen.add(ready.get(timeout=0.2))
        except queue.Empty:
            continue


def _raise_early_failure(results: Any) -> None:
    try:
        part, outcome = results.get_nowait()
    except queue.Empty:
        return
    raise LoadRunError(f"load process {part} failed before the start: {outcome}")


def _collect(results: Any, spec: LoadSpec) -> list[ProcessOutcome]:
    # A run "until the tokens run out" has no planned end: wait as long as it takes.
    limit = None if spec.duration_s == 0 else spec.warmup_s + spec.duration_s + spec.timeout_s + 60
    outcomes: list[ProcessOutcome] = []
    for _ in range(spec.processes):
        try:
            part, outcome = results.get(timeout=limit)
        except queue.Empty as err:
            raise LoadRunError("a load process did not finish in time") from err
        if isinstance(outcome, str):
            raise LoadRunError(f"load process {part} failed: {outcome}")
        outcomes.append(outcome)
    return outcomes
