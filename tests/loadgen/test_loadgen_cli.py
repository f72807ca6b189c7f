"""`atoms loadgen run` as a real process: a target that cannot be loaded is refused at once, in one line."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

METHOD = "atoms.auth.v1.AuthService/ValidateToken"


async def _loadgen_run(target: str, out_dir: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_cli",
        "loadgen",
        "run",
        target,
        "--call",
        METHOD,
        "--warmup",
        "0",
        "--duration",
        "1",
        "--out-dir",
        str(out_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, stderr.decode()


def _port_with_nothing_listening() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_run_against_a_port_with_nothing_listening_fails_in_one_line_naming_the_target(
    tmp_path: Path,
) -> None:
    target = f"127.0.0.1:{_port_with_nothing_listening()}"
    code, stderr = await _loadgen_run(target, tmp_path)
    assert code == 1
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        f"atoms loadgen run: cannot connect to {target}: nothing listens there, or it does not speak "
        "gRPC; check the address and that the service is running"
    ]
