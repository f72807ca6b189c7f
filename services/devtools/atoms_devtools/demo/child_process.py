"""ServiceProcess: one `atoms …` service run as a child process, its output kept in a log file.

Output goes to a file, never to a pipe: a pipe nobody drains fills up and stalls the
child's logging, and with it the service.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import Mapping
from pathlib import Path


class ServiceProcess:
    """A running `python -m atoms_cli ARGS…` whose output is in `log_path`."""

    def __init__(self, process: asyncio.subprocess.Process, *, name: str, log_path: Path) -> None:
        self.process = process
        self.name = name
        self.log_path = log_path

    @classmethod
    async def start(
        cls, name: str, *args: str, log_dir: Path, env: Mapping[str, str] | None = None
    ) -> ServiceProcess:
        """Start `atoms ARGS…` with the current interpreter; output goes to `log_dir/<name>.log`."""
        log_path = log_dir / f"{name}.log"
        with log_path.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "atoms_cli",
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=asyncio.subprocess.STDOUT,
                env=dict(env if env is not None else os.environ),
            )
        return cls(process, name=name, log_path=log_path)

    async def output(self) -> str:
        """Everything the process has written so far."""
        return await asyncio.to_thread(self.log_path.read_text, errors="replace")

    async def wait_for(self, pattern: str, *, timeout_s: float = 30.0) -> re.Match[str]:
        """Wait until the output matches `pattern` and return the match.

        Raises:
            RuntimeError: the process exited first, or the timeout ran out.
        """
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    if match := re.search(pattern, await self.output()):
                        return match
                    if self.process.returncode is not None:
                        raise RuntimeError(f"{self.name} exited with code {self.process.returncode}")
                    await asyncio.sleep(0.05)
        except TimeoutError as err:
            raise RuntimeError(f"{self.name} did not print {pattern!r} within {timeout_s:.0f}s") from err

    async def stop(self, *, timeout_s: float = 20.0) -> int:
        """Send SIGTERM, wait for a graceful exit (SIGKILL after the timeout); return the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout=timeout_s)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()
