"""`atoms demo` (what `make demo` runs) walks the seed's whole path with real processes and exits 0."""

from __future__ import annotations

import asyncio
import sys


async def test_demo_walks_every_step_and_exits_cleanly() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "demo",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    text = output.decode()
    assert process.returncode == 0, text
    for expected in (
        "forwards user token: true",
        "forwards user token: false",
        "whoami, with no OAuth prompt",
        "list_projects through the agent",
        "refused: UNAUTHENTICATED INVALID_SIGNATURE",
        "HTTP 401, WWW-Authenticate: Bearer resource_metadata=",
        "stopped agent cleanly",
        "stopped atoms-mcp cleanly",
        "stopped auth cleanly",
        "demo finished",
    ):
        assert expected in text, f"missing {expected!r} in:\n{text}"
