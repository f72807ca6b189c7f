"""`atoms mcp serve` (here as `python -m atoms_mcp serve`) as a real process."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

from atoms_mcp import cli
from tests.mcp.mcp_clients import fastmcp_client

_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)/api/mcp")
_OUR_VARIABLES = ("ATOMS_", "AUTHKIT_DOMAIN", "FASTMCP_SERVER_AUTH_")


def _environment(tmp_path: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(_OUR_VARIABLES)}
    return environment | {"ATOMS_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'atoms.db'}"}


async def _spawn(tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_mcp",
        "serve",
        *args,
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _read_until_listening(process: asyncio.subprocess.Process) -> tuple[int, list[dict[str, str]]]:
    """Read JSON log lines until the server says where it listens; return the port and the lines."""
    assert process.stderr is not None
    entries: list[dict[str, str]] = []
    async with asyncio.timeout(30):
        while line := await process.stderr.readline():
            entries.append(json.loads(line))
            if match := _LISTENING.search(entries[-1]["message"]):
                return int(match.group(1)), entries
    raise AssertionError(f"the server exited before listening: {entries}")


def test_register_adds_mcp_serve_to_the_umbrella_parser() -> None:
    parser = argparse.ArgumentParser(prog="atoms")
    cli.register(parser.add_subparsers(dest="command", required=True))
    options = parser.parse_args(["mcp", "serve", "--host", "0.0.0.0", "--port", "9000", "--insecure-dev"])
    assert (options.handler, options.host, options.port, options.insecure_dev) == (
        cli.run_serve,
        "0.0.0.0",
        9000,
        True,
    )


async def test_serve_without_authentication_exits_2_naming_the_missing_settings(tmp_path: Path) -> None:
    process = await _spawn(tmp_path, "--port", "0")
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    message = stderr.decode()
    assert "ATOMS_MCP_BASE_URL" in message
    assert "AUTHKIT_DOMAIN" in message
    assert "--insecure-dev" in message


async def test_insecure_dev_process_warns_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = await _spawn(tmp_path, "--port", "0", "--insecure-dev")
    try:
        port, entries = await _read_until_listening(process)
        async with fastmcp_client(f"http://127.0.0.1:{port}/api/mcp", None) as client:
            result = await client.call_tool("whoami", {})
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert any(e["severity"] == "CRITICAL" and "INSECURE DEV MODE" in e["message"] for e in entries)
    assert all(e["service"] == "mcp" for e in entries)
    assert result.meta["insecure_dev"] is True
    assert process.returncode == 0


def _problem_lines(stderr: bytes) -> list[str]:
    """What the program printed besides its JSON log lines."""
    return [line for line in stderr.decode().splitlines() if line.strip() and not line.startswith("{")]


async def test_serve_on_a_port_in_use_exits_1_with_one_line_naming_the_port_and_the_flag(
    tmp_path: Path, occupied_port: int
) -> None:
    process = await _spawn(tmp_path, "--port", str(occupied_port), "--insecure-dev")
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    assert b"Traceback" not in stderr
    assert _problem_lines(stderr) == [
        f"atoms mcp serve: cannot listen on 127.0.0.1:{occupied_port} for HTTP: the port is in use; "
        "stop what holds it or choose another port with --port (0 picks a free one)"
    ]


async def test_an_unknown_log_level_flag_exits_2_naming_the_flag(tmp_path: Path) -> None:
    process = await _spawn(tmp_path, "--port", "0", "--insecure-dev", "--log-level", "LOUD")
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert _problem_lines(stderr) == [
        "atoms mcp serve: configuration error: --log-level: must be one of "
        "CRITICAL, DEBUG, ERROR, INFO, WARNING"
    ]
