"""`make web` as a developer runs it: the whole stack with the web app, stopped with SIGTERM or Ctrl-C.

On free ports (`WEB_STACK_FLAGS=--free-ports`) and with the built app (`--built`, `next start`);
nothing it started may outlive it (the helpers of tests/test_make_run_targets.py check the
process group).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.test_make_run_targets import _environment, _make, _stop_and_check_nothing_survives

READY = re.compile(r"==> open (http://127\.0\.0\.1:\d+) and sign in as ada@acme\.test")


async def _announced_url(log: Path) -> str:
    """The URL `make web` tells the person to open, once the whole stack is up (within 2 minutes)."""
    async with asyncio.timeout(120):
        for _ in itertools.count():
            if match := READY.search(await asyncio.to_thread(log.read_text, errors="replace")):
                return match.group(1)
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_make_web_serves_the_app_and_stops_everything_on_a_signal(
    tmp_path: Path, sig: signal.Signals, built_web_app: subprocess.CompletedProcess[str]
) -> None:
    assert built_web_app.returncode == 0, built_web_app.stdout + built_web_app.stderr
    variables = ("NODE_STAMPS=", "WEB_STACK_FLAGS=--free-ports --built")
    async with _make(tmp_path, "web", *variables, env=_environment()) as make:
        url = await _announced_url(make.log)
        async with httpx.AsyncClient(timeout=30) as http:
            home = await http.get(url)
        assert home.status_code == 200, make.tail()
        assert 'data-testid="sign-in"' in home.text
        commands = " | ".join(make.members().values())
        for piece in ("dev authkit", "auth serve", "mcp serve", "dev model", "agent serve", "next"):
            assert piece in commands, commands
        await _stop_and_check_nothing_survives(make, sig)
