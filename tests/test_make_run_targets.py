"""`make run-*` as a developer runs it: on free ports, then stopped with SIGTERM or Ctrl-C.

Nothing a target started may outlive it: GNU make forwards SIGTERM to its recipe shell
only, so a shell that dies without stopping its children leaves the services running
(and their ports taken). Make runs in a session of its own here; every process it starts
stays in that process group, which is how the test finds them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import select
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent.parent
_STRIPPED = ("ATOMS_", "WORKOS_", "AUTHKIT_", "FASTMCP_SERVER_AUTH_", "MAKE", "MFLAGS")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class _Make:
    """A running `make TARGET` and what it logged."""

    process: asyncio.subprocess.Process
    log: Path

    @property
    def group(self) -> int:
        return self.process.pid  # its own session: the group id is its pid

    def members(self) -> dict[int, str]:
        """The live (not zombie) processes of make's group, with their command lines."""
        found = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    stat = (entry / "stat").read_text()
                    state, _, group = stat.rpartition(")")[2].split()[:3]
                    if int(group) == self.group and state != "Z":
                        found[int(entry.name)] = (
                            (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                        )
        return found

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextlib.asynccontextmanager
async def _make(tmp_path: Path, target: str, *variables: str, env: dict[str, str]) -> AsyncIterator[_Make]:
    log = tmp_path / f"make-{target}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            "make",
            "--no-print-directory",
            "-C",
            str(REPO),
            "-o",
            f"{VENV}/.installed",  # never (re)install from a test
            f"VENV={VENV}",
            target,
            *variables,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    running = _Make(process, log)
    try:
        yield running
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(running.group, signal.SIGKILL)  # whatever a failed test left behind
        await process.wait()


def _environment(**variables: str) -> dict[str, str]:
    kept = {key: value for key, value in os.environ.items() if not key.startswith(_STRIPPED)}
    return kept | variables


async def _until_grpc_serving(port: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(), wait_for_ready=True
        )
        async for reply in watch:
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                watch.cancel()
                return


async def _first_answer(url: str) -> httpx.Response:
    """GET `url` until the server answers (it is starting), within a minute."""
    async with httpx.AsyncClient() as http, asyncio.timeout(60):
        for _ in itertools.count():
            try:
                return await http.get(url)
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _exit_watchers(pids: list[int]) -> Iterator[dict[int, int]]:
    """One pidfd per process (opened before the signal, so a reused pid cannot fool the wait)."""
    fds = {}
    try:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                fds[os.pidfd_open(pid)] = pid
        yield fds
    finally:
        for fd in fds:
            os.close(fd)


def _wait_for_exits(fds: dict[int, int], *, timeout_s: float) -> list[int]:
    """Wait until every watched process has ended; return the pids still running at the deadline."""
    deadline = time.monotonic() + timeout_s
    pending = dict(fds)
    while pending and (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select(list(pending), [], [], remaining)
        for fd in ready:
            pending.pop(fd)
    return sorted(pending.values())


async def _stop_and_check_nothing_survives(make: _Make, sig: signal.Signals) -> None:
    started = make.members()
    with _exit_watchers(list(started)) as watchers:
        if sig is signal.SIGINT:
            os.killpg(make.group, sig)  # Ctrl-C: the terminal signals the whole foreground group
        else:
            make.process.send_signal(sig)  # a supervisor or `kill`: make alone
        survivors = await asyncio.to_thread(_wait_for_exits, watchers, timeout_s=60)
    assert not survivors, f"still running: {[started[pid] for pid in survivors]}\n{make.tail()}"
    assert make.members() == {}, make.tail()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_make_run_auth_stops_the_emulator_and_the_auth_service_on_a_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    auth_port = _free_port()
    variables = (
        f"AUTH_PORT={auth_port}",
        f"AUTH_METRICS_PORT={_free_port()}",
        f"EMULATOR_PORT={_free_port()}",
        f"EMULATOR_KEYS_FILE={tmp_path / 'keys.json'}",
    )
    async with _make(tmp_path, "run-auth", *variables, env=_environment()) as make:
        async with asyncio.timeout(60):
            await _until_grpc_serving(auth_port)  # SERVING: the emulator's keys are loaded too
        commands = " | ".join(make.members().values())
        assert "atoms dev authkit" in commands, commands
        assert "atoms auth serve" in commands, commands
        await _stop_and_check_nothing_survives(make, sig)


@pytest.mark.slow
async def test_make_run_mcp_stops_the_mcp_service_on_sigterm(tmp_path: Path) -> None:
    mcp_port = _free_port()
    env = _environment(ATOMS_MCP_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'atoms.db'}")
    variables = (f"MCP_PORT={mcp_port}", f"AUTH_PORT={_free_port()}", f"EMULATOR_PORT={_free_port()}")
    async with _make(tmp_path, "run-mcp", *variables, env=env) as make:
        reply = await _first_answer(f"http://127.0.0.1:{mcp_port}/health")
        assert reply.status_code == 200, make.tail()
        assert "atoms mcp serve" in " | ".join(make.members().values())
        await _stop_and_check_nothing_survives(make, signal.SIGTERM)
