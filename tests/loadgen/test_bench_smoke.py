"""A smoke run of `make bench` (`atoms loadgen bench --quick`): every part runs end to end.

The figures of a run this short mean nothing; the tests check that each section and each
target is reported and that the JSON is written, and that the tracing section's "on" phase
is traced and its "off" phase is not.
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
    "tracing off and on",
    "agent memory per active user",
    "auth service memory",
    "### Targets",
)


async def _quick_bench(out_dir: Path, *args: str, timeout_s: float) -> str:
    """Run `atoms loadgen bench --quick ARGS`; return its output (it must exit 0)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ATOMS_", "WORKOS_", "AUTHKIT_", "OTEL_"))
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_devtools.loadgen",
        "bench",
        "--quick",
        *args,
        "--out-dir",
        str(out_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=timeout_s)
    text = output.decode()
    assert process.returncode == 0, text[-3000:]
    return text


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_quick_bench_reports_every_section_and_writes_json(tmp_path: Path) -> None:
    text = await _quick_bench(tmp_path, timeout_s=220)
    missing = [section for section in SECTIONS if section not in text]
    assert not missing, text[-3000:]
    document = json.loads((tmp_path / "latest.json").read_text())
    assert document["results"]
    assert document["targets"]
    assert set(document["facts"]["cli_startup_s"]) >= {"--help", "auth serve --help"}


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_quick_tracing_section_gets_spans_when_tracing_is_on_and_none_when_off(tmp_path: Path) -> None:
    text = await _quick_bench(tmp_path, "--only", "tracing", timeout_s=100)
    assert "### tracing off and on" in text, text[-3000:]
    tracing = json.loads((tmp_path / "latest.json").read_text())["facts"]["tracing"]
    assert tracing["sampler"] == "always_on"
    assert {phase["mode"] for phase in tracing["phases"]} == {"off", "on"}
    assert tracing["spans_off"] == 0
    assert all(not phase["spans"] for phase in tracing["phases"] if phase["mode"] == "off")
    for workload in tracing["workloads"].values():
        assert workload["off"]["spans"] == 0
        assert workload["on"]["spans_per_call"] >= 1
        assert workload["off"]["calls_sent"] > 0
