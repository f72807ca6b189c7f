"""ReceiverProcess: an `OtlpTraceReceiver` that only counts spans, in a child process of its own.

A benchmark of traced services sends it thousands of spans a second. Decoding them in the
benchmark's own event loop would compete with the calls it measures (and for the GIL with
them), so the receiver runs in a spawned process, keeps no span (`max_spans=0`) and counts
them by `service.name`. The parent asks for the counts over a pipe; the child stops when
asked or when the parent goes away (the pipe closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from atoms_devtools.trace_receiver.otlp_receiver import OtlpTraceReceiver, exporter_environment

_COUNTS = "counts"
_STOP = "stop"
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 5.0


class ReceiverProcess:
    """Starts, questions and stops the counting receiver's process."""

    def __init__(self) -> None:
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.port: int | None = None

    @property
    def endpoint(self) -> str:
        """The value of OTEL_EXPORTER_OTLP_ENDPOINT that sends a process's spans here."""
        if self.port is None:
            raise RuntimeError("the receiver process is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The child's process id (to read its CPU time)."""
        if self._process is None or self._process.pid is None:
            raise RuntimeError("the receiver process is not started")
        return self._process.pid

    def exporter_environment(self, *, batch_delay_ms: int, sampler: str) -> dict[str, str]:
        """The OTEL_* variables that turn a service's tracing on and send its spans here."""
        return exporter_environment(self.endpoint, batch_delay_ms=batch_delay_ms, sampler=sampler)

    async def start(self) -> int:
        """Start the child and wait until it listens; return its port.

        Raises:
            RuntimeError: the child did not report a port in time.
        """
        context = multiprocessing.get_context("spawn")  # no fork: gRPC's threads do not survive one
        parent_end, child_end = context.Pipe()
        process = context.Process(target=_serve, args=(child_end,), name="otlp-receiver", daemon=True)
        process.start()
        child_end.close()
        self._process, self._conn = process, parent_end
        if not await asyncio.to_thread(parent_end.poll, _START_TIMEOUT_S):
            await self.stop()
            raise RuntimeError(f"the OTLP receiver process did not start within {_START_TIMEOUT_S:.0f} s")
        self.port = int(parent_end.recv())
        return self.port

    async def span_counts(self) -> dict[str, int]:
        """Spans received so far, by `service.name`."""
        return await asyncio.to_thread(self._ask_counts)

    async def wait_until_quiet(self, *, quiet_s: float, timeout_s: float = 30.0) -> dict[str, int]:
        """Wait until no span has arrived for `quiet_s` (the services' batches are sent); return the counts.

        Gives up after `timeout_s` and returns the counts as they are (spans still arriving
        then are the next reading's).
        """
        deadline = time.monotonic() + timeout_s
        counts = await self.span_counts()
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < quiet_s and time.monotonic() < deadline:
            await asyncio.sleep(min(0.1, quiet_s))
            now_counts = await self.span_counts()
            if now_counts != counts:
                counts, quiet_since = now_counts, time.monotonic()
        return counts

    async def stop(self) -> None:
        """Stop the child (terminated if it does not stop in time)."""
        conn, process = self._conn, self._process
        self._conn, self._process, self.port = None, None, None
        if conn is not None:
            with contextlib.suppress(OSError):  # the child is already gone (BrokenPipeError)
                conn.send(_STOP)
            conn.close()
        if process is not None:
            await asyncio.to_thread(process.join, _STOP_TIMEOUT_S)
            if process.is_alive():
                process.terminate()
                await asyncio.to_thread(process.join, _STOP_TIMEOUT_S)

    def _ask_counts(self) -> dict[str, int]:
        if self._conn is None:
            raise RuntimeError("the receiver process is not started")
        self._conn.send(_COUNTS)
        counts: dict[str, int] = self._conn.recv()
        return counts


def _serve(conn: Connection) -> None:
    """The child's entry point: receive and count until told to stop."""
    asyncio.run(_receive_until_stopped(conn))


async def _receive_until_stopped(conn: Connection) -> None:
    receiver = OtlpTraceReceiver(max_spans=0)
    conn.send(await receiver.start())
    stopped = asyncio.Event()

    def answer() -> None:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the parent has gone
            request = _STOP
        if request == _COUNTS:
            conn.send(receiver.span_counts())
        else:
            stopped.set()

    loop = asyncio.get_running_loop()
    loop.add_reader(conn.fileno(), answer)
    try:
        await stopped.wait()
    finally:
        loop.remove_reader(conn.fileno())
        await receiver.stop()
        conn.close()
