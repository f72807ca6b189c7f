"""`python -m notes_service serve` as an operator runs it, with a bad configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notes_service", "serve", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_port_out_of_range_exits_2_naming_the_setting() -> None:
    done = _serve("--port", "70000")
    assert done.returncode == 2
    assert "configuration error" in done.stderr
    assert "--port" in done.stderr


def test_bad_environment_value_exits_2_naming_the_setting() -> None:
    done = _serve(ATOMS_NOTES_AGENT_TIMEOUT_S="-1")
    assert done.returncode == 2
    assert "ATOMS_NOTES_AGENT_TIMEOUT_S" in done.stderr
    assert "-1" not in done.stderr  # the reason, never the value
