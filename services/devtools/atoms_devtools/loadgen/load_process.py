"""One load-generating process: its own event loop (uvloop), channels and share of the calls.

The parent starts several of these (multiprocessing, spawn) so that the client is not
limited to one core. Each one connects, reports ready, waits for the common start time
(CLOCK_MONOTONIC is system-wide on Linux, so the processes share one timeline), warms up,
then records every call that starts inside the measured window.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import uvloop

from atoms_devtools.loadgen.call_source import PlannedCall, planned_calls
from atoms_devtools.loadgen.load_result import ProcessOutcome
from atoms_devtools.loadgen.load_spec import LoadSpec, split_share

_CHANNEL_OPTIONS = (
    ("grpc.use_local_subchannel_pool", 1),  # one TCP connection per channel (SO_REUSEPORT spreads them)
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
    ("grpc.enable_retries", 0),
)
_CONNECT_TIMEOUT_S = 15.0

UnaryCall = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Timeline:
    """The run's instants, on the shared monotonic clock."""

    start: float
    window_start: float
    window_end: float
    switch_at: float


class _Recorder:
    """Latencies and outcomes of the calls that started inside the window; a count of the others."""

    def __init__(self, window_start: float) -> None:
        self.window_start = window_start
        self.warmup_calls = 0
        self.latencies = array("d")
        self.outcomes: dict[tuple[str, str], int] = {}
        self.last_end = window_start
        self.exhausted = False

    def record(self, started: float, ended: float, expect: str, code: str) -> None:
        if started < self.window_start:
            self.warmup_calls += 1
            return
        self.latencies.append(ended - started)
        key = (expect, code)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        self.last_end = max(self.last_end, ended)


def process_main(spec: LoadSpec, part: int, ready: Any, go: Any, start_at: Any, results: Any) -> None:
    """Entry point of a spawned load process; puts `(part, ProcessOutcome | str error)` on `results`."""
    try:
        outcome = uvloop.run(_run(spec, part, ready, go, start_at))
    except Exception as err:  # reported to the parent, which fails the run
        results.put((part, f"{type(err).__name__}: {err}"))
        return
    results.put((part, outcome))


async def _run(spec: LoadSpec, part: int, ready: Any, go: Any, start_at: Any) -> ProcessOutcome:
    channels = [
        grpc.aio.insecure_channel(spec.target, options=_CHANNEL_OPTIONS) for _ in range(spec.connections)
    ]
    try:
        async with asyncio.timeout(_CONNECT_TIMEOUT_S):
            await asyncio.gather(*(channel.channel_ready() for channel in channels))
        calls: list[UnaryCall] = [channel.unary_unary(spec.method_path) for channel in channels]
        sources = _Sources(spec, part)
        ready.put(part)
        if not await asyncio.to_thread(go.wait, 60):
            raise RuntimeError("the parent never gave the start signal")
        timeline = _timeline(spec, start_at.value)
        await _sleep_until(timeline.start)
        cpu_before = time.process_time()
        recorder = _Recorder(timeline.window_start)
        if spec.mode == "rate":
            await _open_loop(spec, part, calls, sources, timeline, recorder)
        else:
            await _closed_loop(spec, part, calls, sources, timeline, recorder)
        cpu_s = time.process_time() - cpu_before
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))
    # A pool used up early ends the window at the last answer; otherwise the window is as planned.
    ended_early = recorder.exhausted or timeline.window_end == float("inf")
    window_end = min(recorder.last_end, timeline.window_end) if ended_early else timeline.window_end
    return ProcessOutcome(
        latencies_s=recorder.latencies,
        outcomes=recorder.outcomes,
        window_s=max(0.0, window_end - timeline.window_start),
        cpu_s=cpu_s,
        exhausted=recorder.exhausted,
        warmup_calls=recorder.warmup_calls,
    )


class _Sources:
    """The process's calls before and after the optional switch.

    The second pool is opened at the switch instant or, when its file does not exist yet, at
    the first call after it appears; until then the first pool goes on. So whoever drives the
    run may write it during the run (the bench mints tokens with a key rotated mid-window),
    however late a loaded machine lets it: it must appear whole, written elsewhere and
    renamed into place (`token_pools.write_pool`).
    """

    def __init__(self, spec: LoadSpec, part: int) -> None:
        self._spec, self._part = spec, part
        self._first = planned_calls(spec, spec.tokens, part=part, parts=spec.processes)
        self._second: Iterator[PlannedCall] | None = None

    def next(self, now: float, timeline: Timeline) -> PlannedCall | None:
        spec = self._spec
        if self._second is None:
            switch = spec.switch_tokens
            if switch is None or now < timeline.switch_at or not switch.path.exists():
                return next(self._first, None)
            self._second = planned_calls(spec, switch, part=self._part, parts=spec.processes)
        return next(self._second, None)


def _timeline(spec: LoadSpec, start: float) -> Timeline:
    window_start = start + spec.warmup_s
    window_end = window_start + spec.duration_s if spec.duration_s > 0 else float("inf")
    return Timeline(start, window_start, window_end, window_start + spec.switch_at_s)


async def _closed_loop(
    spec: LoadSpec,
    part: int,
    calls: list[UnaryCall],
    sources: _Sources,
    timeline: Timeline,
    recorder: _Recorder,
) -> None:
    callers = split_share(spec.concurrency, spec.processes, part)
    channel_cycle = itertools.cycle(calls)

    async def caller(call: UnaryCall) -> None:
        while (now := time.monotonic()) < timeline.window_end:
            planned = sources.next(now, timeline)
            if planned is None:
                recorder.exhausted = True
                return
            code = await _send(call, planned, spec.timeout_s)
            recorder.record(now, time.monotonic(), planned.expect, code)

    await asyncio.gather(*(caller(next(channel_cycle)) for _ in range(callers)))


async def _open_loop(
    spec: LoadSpec,
    part: int,
    calls: list[UnaryCall],
    sources: _Sources,
    timeline: Timeline,
    recorder: _Recorder,
) -> None:
    interval = spec.processes / spec.rate
    # Stagger the processes so their calls interleave instead of arriving in bursts.
    scheduled = timeline.start + interval * part / spec.processes
    in_flight: set[asyncio.Task[None]] = set()
    channel_cycle = itertools.cycle(calls)

    async def one(call: UnaryCall, planned: PlannedCall, at: float) -> None:
        code = await _send(call, planned, spec.timeout_s)
        # Latency counts from the scheduled instant, so a client that falls behind shows it
        # (no coordinated omission).
        recorder.record(at, time.monotonic(), planned.expect, code)

    while scheduled < timeline.window_end:
        now = time.monotonic()
        while scheduled <= now and scheduled < timeline.window_end:
            planned = sources.next(scheduled, timeline)
            if planned is None:
                recorder.exhausted = True
                break
            if len(in_flight) >= spec.max_in_flight:
                recorder.record(scheduled, now, planned.expect, "CLIENT_OVERLOADED")
            else:
                task = asyncio.get_running_loop().create_task(one(next(channel_cycle), planned, scheduled))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            scheduled += interval
        if recorder.exhausted:
            break
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
    if in_flight:
        await asyncio.gather(*in_flight)


async def _send(call: UnaryCall, planned: PlannedCall, timeout_s: float) -> str:
    try:
        await call(planned.request, metadata=planned.metadata or None, timeout=timeout_s)
    except grpc.aio.AioRpcError as err:
        return str(err.code().name)
    except Exception:
        return "CLIENT_ERROR"
    return "OK"


async def _sleep_until(instant: float) -> None:
    delay = instant - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
