"""Running the Node scripts of tests/js without blocking the event loop that serves the stack."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")

requires_node_packages = [
    pytest.mark.skipif(NODE is None, reason="node is not installed (Node 20 or later runs tests/js)"),
    pytest.mark.skipif(
        not (JS_DIR / "node_modules" / "@workos-inc" / "node").is_dir(),
        reason="tests/js/node_modules is missing or stale: run `npm ci --prefix tests/js` (make install)",
    ),
]


async def run_node(*args: str, env: Mapping[str, str], timeout_s: float = 90.0) -> tuple[int, str, str]:
    """Run `node ARGS…` in tests/js with `env` added; return (exit code, stdout, stderr)."""
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        *args,
        cwd=JS_DIR,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=timeout_s)
    return process.returncode or 0, stdout.decode(), stderr.decode()
