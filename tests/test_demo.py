"""`atoms demo` (what `make demo` runs) walks the whole path and exits 0."""

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
        "auth service is SERVING",
        "refused: UNAUTHENTICATED INVALID_SIGNATURE",
        "refused: UNAUTHENTICATED TOKEN_EXPIRED",
        "refused: UNAUTHENTICATED UNTRUSTED_ISSUER",
        "stopped auth cleanly",
        "demo finished",
    ):
        assert expected in text, f"missing {expected!r} in:\n{text}"
