"""A smoke run of `make bench` (`atoms loadgen bench --quick`): every part runs end to end.

The figures of a run this short mean nothing; the test checks that each section and each
target of issue 6 is reported and that the JSON is written.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

SECTIONS = (
    "`atoms` start-up",
    "ValidateToken, closed loop",
    "ValidateToken, open loop",
    "--workers 1 and 2",
    "signing-key rotation",
    "unknown-kid tokens",
    "agent CallTool(whoami) against a direct MCP call",
    "auth service restarted once",
    "the agent at scale",
    "agent memory per active user",
    "auth service memory",
    "### Targets",
)


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_quick_bench_reports_every_section_and_writes_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATOMS_", "WORKOS_", "AUTHKIT_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_devtools.loadgen",
        "bench",
        "--quick",
        "--out-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=220)
    text = output.decode()
    assert process.returncode == 0, text[-3000:]
    missing = [section for section in SECTIONS if section not in text]
    assert not missing, text[-3000:]
    document = json.loads((tmp_path / "latest.json").read_text())
    assert document["results"]
    assert document["targets"]
    assert set(document["facts"]["cli_startup_s"]) >= {"--help", "auth serve --help"}
