"""`atoms agent serve` as a real process: a port it cannot bind or a bad setting is one clear line."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

_OUR_VARIABLES = ("ATOMS_", "WORKOS_", "AUTHKIT_DOMAIN", "FASTMCP_SERVER_AUTH_")


async def _serve(tmp_path: Path, *flags: str, **variables: str) -> tuple[int, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(_OUR_VARIABLES)}
    environment["ATOMS_AGENT_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'agent.db'}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_cli",
        "agent",
        "serve",
        *flags,
        cwd=tmp_path,
        env=environment | variables,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, stderr.decode()


def _problem_lines(stderr: str) -> list[str]:
    """What the program printed besides its JSON log lines."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("{")]


@pytest.mark.parametrize(
    ("busy_flag", "face"),
    [
        pytest.param("--port", "gRPC", id="gRPC port"),
        pytest.param("--http-port", "HTTP", id="HTTP port"),
        pytest.param("--metrics-port", "metrics", id="metrics port"),
    ],
)
async def test_a_port_in_use_exits_1_with_one_line_naming_the_port_and_its_flag(
    tmp_path: Path, occupied_port: int, busy_flag: str, face: str
) -> None:
    ports = {"--port": "0", "--http-port": "0", "--metrics-port": "0", busy_flag: str(occupied_port)}
    code, err = await _serve(tmp_path, *(item for pair in ports.items() for item in pair))
    assert code == 1
    assert "Traceback" not in err
    assert _problem_lines(err) == [
        f"atoms agent serve: cannot listen on 127.0.0.1:{occupied_port} for {face}: the port is in use; "
        f"stop what holds it or choose another port with {busy_flag} (0 picks a free one)"
    ]


@pytest.mark.parametrize(
    ("flags", "variables"),
    [
        pytest.param(("--log-level", "LOUD"), {}, id="flag"),
        pytest.param((), {"ATOMS_LOG_LEVEL": "LOUD"}, id="ATOMS_LOG_LEVEL"),
    ],
)
async def test_an_unknown_log_level_exits_2_naming_the_setting(
    tmp_path: Path, flags: tuple[str, ...], variables: dict[str, str]
) -> None:
    code, err = await _serve(tmp_path, "--port", "0", "--http-port", "0", *flags, **variables)
    assert code == 2
    assert "Traceback" not in err
    assert _problem_lines(err) == [
        "atoms agent serve: configuration error: --log-level / ATOMS_LOG_LEVEL: 'LOUD' is not a log "
        "level; use DEBUG, INFO, WARNING or ERROR"
    ]
