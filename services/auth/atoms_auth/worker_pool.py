"""run_worker_pool: `atoms auth serve --workers N`, N auth service processes on one port.

Python runs one event loop on one core at a time; the auth service's work per call is CPU
(signature checks, protobuf, gRPC's own machinery), so more cores need more processes.
Each worker is a complete auth service (its own JWKS and token caches, as replicas behind
a load balancer would have) listening on the same port with SO_REUSEPORT: the kernel
spreads incoming connections over the workers. A client with one connection therefore
talks to one worker; clients with several connections, or several clients, use them all.

The parent only supervises: it picks the port (holding it, with SO_REUSEPORT, until every
worker listens), starts the workers, reports once all are up, forwards SIGTERM/SIGINT, and
stops the whole pool when one worker dies (the supervisor above restarts it whole).
Worker `i` serves metrics on `metrics_port + i` (each picks a free one when it is 0).
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import queue
import signal
import socket
import time
from types import FrameType
from typing import Any

import uvloop

from atoms_auth.cli import SERVICE_NAME
from atoms_auth.server import AuthServer
from atoms_auth.settings import AuthSettings
from atoms_grpc.log_format import configure_logging
from atoms_grpc.service_runner import run_until_signalled
from atoms_grpc.tracing_setup import process_tracing

logger = logging.getLogger(__name__)

MAX_WORKERS = 64
_READY_TIMEOUT_S = 60.0


class WorkerPoolError(RuntimeError):
    """The pool could not start (the message says which worker and why)."""


def run_worker_pool(settings: AuthSettings, *, workers: int) -> int:
    """Run `workers` auth service processes on one port until SIGINT/SIGTERM; return the exit code.

    Raises:
        WorkerPoolError: the port cannot be shared, or a worker failed to start.
    """
    if not 1 <= workers <= MAX_WORKERS:
        raise WorkerPoolError(f"--workers must be between 1 and {MAX_WORKERS}")
    reservation = _reserve_port(settings.host, settings.port)
    port = int(reservation.getsockname()[1])
    context = multiprocessing.get_context("spawn")  # gRPC's threads do not survive a fork
    ready: Any = context.Queue()
    processes = [
        context.Process(
            target=_worker_main,
            args=(_worker_settings(settings, port, index), index, ready),
            name=f"auth-{index}",
        )
        for index in range(workers)
    ]
    stopping: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: each worker drains gracefully

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for process in processes:
            process.start()
        _wait_until_listening(ready, processes, stopping)
        reservation.close()
        logger.info(
            "auth service running %d workers on %s:%d (SO_REUSEPORT)",
            workers,
            settings.host,
            port,
            extra={"grpc_port": port, "workers": workers},
        )
        return _supervise(processes, stopping)
    finally:
        reservation.close()
        if not stopping:
            request_stop(signal.SIGTERM, None)
        for process in processes:
            process.join(timeout=settings.shutdown_grace_s + 5)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _reserve_port(host: str, port: int) -> socket.socket:
    """Bind (without listening) `host:port` with SO_REUSEPORT, picking a free port for 0."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    reservation = socket.socket(family, socket.SOCK_STREAM)
    reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        reservation.bind((host.strip("[]"), port))
    except OSError as err:
        reservation.close()
        raise WorkerPoolError(f"cannot share {host}:{port} between workers: {err.strerror or err}") from err
    return reservation


def _worker_settings(settings: AuthSettings, port: int, index: int) -> AuthSettings:
    metrics_port = settings.metrics_port
    if metrics_port:
        metrics_port += index
    return dataclasses.replace(settings, port=port, metrics_port=metrics_port)


def _wait_until_listening(ready: Any, processes: list[Any], stopping: list[int]) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    listening: set[int] = set()
    while len(listening) < len(processes):
        if stopping:
            raise WorkerPoolError("stopped while the workers were starting")
        dead = [p.name for p in processes if not p.is_alive()]
        if dead:
            raise WorkerPoolError(f"worker {dead[0]} exited while starting; see its log lines above")
        if time.monotonic() > deadline:
            raise WorkerPoolError(f"only {len(listening)} of {len(processes)} workers listened in time")
        try:
            listening.add(ready.get(timeout=0.2))
        except queue.Empty:
            continue


def _supervise(processes: list[Any], stopping: list[int]) -> int:
    """Wait until every worker has ended; 1 when one ended unasked or failed its shutdown."""
    died = False
    sentinels = {process.sentinel: process for process in processes}
    while sentinels:
        for sentinel in multiprocessing.connection.wait(list(sentinels), timeout=1.0):
            process = sentinels.pop(sentinel)
            process.join()
            if stopping:
                continue
            # A dead worker leaves a pool that looks healthy and serves less: stop it all.
            died = True
            logger.error(
                "auth worker %s exited with code %s; stopping the pool", process.name, process.exitcode
            )
            stopping.append(signal.SIGTERM)
            for other in sentinels.values():
                other.terminate()
    clean = all(process.exitcode in (0, -signal.SIGTERM) for process in processes)
    return 0 if clean and not died else 1


def _worker_main(settings: AuthSettings, index: int, ready: Any) -> None:
    configure_logging(service="auth", level=settings.log_level)
    # Each worker is its own process (spawned): its own tracer provider and exporter.
    with process_tracing(SERVICE_NAME):
        uvloop.run(_run_worker(settings, index, ready))


async def _run_worker(settings: AuthSettings, index: int, ready: Any) -> None:
    server = AuthServer(settings, reuse_port=True)
    await run_until_signalled(
        _ReportsWhenListening(server, index, ready),
        name=f"auth worker {index}",
        grace_s=settings.shutdown_grace_s,
    )


class _ReportsWhenListening:
    """An AuthServer that tells the parent once it listens."""

    def __init__(self, server: AuthServer, index: int, ready: Any) -> None:
        self._server, self._index, self._ready = server, index, ready

    async def start(self) -> int:
        port = await self._server.start()
        self._ready.put(self._index)
        return port

    async def stop(self) -> None:
        await self._server.stop()
