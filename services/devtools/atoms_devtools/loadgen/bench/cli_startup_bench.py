"""The `atoms` program's start-up time: how long a command takes before it does anything.

The umbrella imports a sub-command's code only when that sub-command runs, so `atoms --help`
and `atoms auth serve --help` load argparse definitions and nothing else. Each command runs
as a new process, several times; the table gives the median and the slowest run.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import time
from pathlib import Path

from atoms_devtools.loadgen.bench.bench_plan import BenchPlan, BenchReport

COMMANDS = (
    ("--help",),
    ("auth", "serve", "--help"),
    ("agent", "serve", "--help"),
    ("dev", "token", "--help"),
)
# The budget the issue of one distribution per service set for `atoms --help` on this machine.
TARGET_S = 0.3


def atoms_program() -> str:
    """The `atoms` console script of the running interpreter's environment."""
    beside = Path(sys.executable).with_name("atoms")
    return str(beside) if beside.exists() else (shutil.which("atoms") or "atoms")


async def run_cli_startup(report: BenchReport, plan: BenchPlan) -> None:
    """Time each command `plan.cli_runs` times; add a section and a target."""
    program = atoms_program()
    rows = []
    medians = {}
    for args in COMMANDS:
        seconds = [await _time_once(program, args) for _ in range(plan.cli_runs)]
        medians[args] = statistics.median(seconds)
        rows.append([f"atoms {' '.join(args)}", f"{medians[args] * 1000:.0f}", f"{max(seconds) * 1000:.0f}"])
    report.section(
        f"`atoms` start-up ({plan.cli_runs} runs each)", ["command", "median ms", "slowest ms"], rows
    )
    report.facts["cli_startup_s"] = {" ".join(args): round(value, 4) for args, value in medians.items()}
    worst = max(medians[("--help",)], medians[("auth", "serve", "--help")])
    report.target(
        f"`atoms --help` and `atoms auth serve --help` under {TARGET_S} s (median)",
        f"{worst * 1000:.0f} ms",
        worst < TARGET_S,
    )


async def _time_once(program: str, args: tuple[str, ...]) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        program, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    code = await process.wait()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"atoms {' '.join(args)} exited with {code}")
    return elapsed
