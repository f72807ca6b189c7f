"""run_bench: `make bench`, every measurement in one run, printed as one table.

Order: the `atoms` program's start-up time, alone; then the emulator and the services
start; tokens are minted before any measurement (so
minting never competes with one); then ValidateToken closed loop, open loop, workers; the
key rotation and random kids; the agent stack (agent against direct MCP, then the auth
restart); the agent at scale (many distinct users, with its own MCP service and agent); tracing
off and on (its own auth services, MCP services and agents, and an OTLP receiver); last the
memory run with its own fresh auth service. Results go to
`var/bench/bench-<time>.json` and `var/bench/latest.json`; each load run also writes its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atoms_devtools.loadgen.bench import (
    agent_bench,
    cli_startup_bench,
    memory_bench,
    tracing_bench,
    under_load_bench,
    users_bench,
    validate_token_bench,
)
from atoms_devtools.loadgen.bench.bench_plan import BenchPlan, BenchReport
from atoms_devtools.loadgen.bench.bench_stack import BenchStack
from atoms_devtools.loadgen.bench.bench_table import render

SECTIONS = ("cli", "validate", "workers", "under-load", "agent", "users", "tracing", "memory")


def run_bench(*, quick: bool, memory_tokens: int | None, only: str | None, out_dir: Path) -> int:
    """Run the bench, print the table, write the JSON; return 0 (missed targets are reported, not failed)."""
    plan = (BenchPlan.quick() if quick else BenchPlan()).with_memory_tokens(memory_tokens)
    wanted = set(SECTIONS if not only else only.split(","))
    unknown = wanted - set(SECTIONS)
    if unknown:
        print(
            f"atoms loadgen bench: unknown section(s) {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(SECTIONS)}"
        )
        return 2
    report = BenchReport()
    report.facts["machine"] = machine_facts()
    began = time.monotonic()
    asyncio.run(_run(plan, report, wanted))
    report.facts["machine"]["loadavg_end"] = os.getloadavg()
    report.facts["elapsed_s"] = round(time.monotonic() - began, 1)
    print()
    print(render(report))
    _write(report, plan, out_dir)
    return 0


async def _run(plan: BenchPlan, report: BenchReport, wanted: set[str]) -> None:
    if "cli" in wanted:  # first, on a machine no service loads yet
        await cli_startup_bench.run_cli_startup(report, plan)
    workdir = Path(tempfile.mkdtemp(prefix="atoms-bench-"))
    print(f"bench: logs and token pools in {workdir}", flush=True)
    stack = BenchStack(workdir)
    try:
        await stack.start_emulator()
        auth = await stack.start_auth("auth")
        if wanted & {"validate", "workers"}:
            tokens = await validate_token_bench.prepare_tokens(stack, plan)
            if "validate" in wanted:
                ceiling = await stack.start_ceiling()
                reference = await stack.start_reference()
                await validate_token_bench.run_closed_loop(
                    report, plan, ceiling=ceiling, reference=reference, auth=auth, tokens=tokens
                )
                await validate_token_bench.run_fixed_rate(
                    report, plan, ceiling=ceiling, auth=auth, tokens=tokens
                )
                await stack.stop(reference.process)
                await stack.stop(ceiling.process)
            if "workers" in wanted:
                await validate_token_bench.run_workers(report, plan, stack=stack, auth=auth, tokens=tokens)
        if "under-load" in wanted:
            await under_load_bench.run_rotation(report, plan, stack=stack, auth=auth)
            await under_load_bench.run_random_kids(report, plan, stack=stack, auth=auth)
        if wanted & {"agent", "under-load"}:
            mcp_url = await stack.start_mcp(auth)
            agent_address = await stack.start_agent(auth, mcp_url)
            if "agent" in wanted:
                await agent_bench.run_agent_vs_direct(
                    report, plan, stack=stack, mcp_url=mcp_url, agent_address=agent_address
                )
            if "under-load" in wanted:
                auth = await under_load_bench.run_restart(
                    report, plan, stack=stack, auth=auth, agent_address=agent_address
                )
        if "users" in wanted:
            await users_bench.run_users(report, plan, stack=stack, auth=auth)
        if "tracing" in wanted:
            await tracing_bench.run_tracing(report, plan, stack=stack)
        if "memory" in wanted:
            await memory_bench.run_memory(report, plan, stack=stack)
    finally:
        await stack.aclose()


def machine_facts() -> dict[str, Any]:
    """What the figures were measured on: date, cores, memory, CPU model, load, versions."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg(),
        "commit": _git_commit(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, read-only
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def _write(report: BenchReport, plan: BenchPlan, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "plan": {name: getattr(plan, name) for name in plan.__slots__},
        "facts": report.facts,
        "targets": [{"target": t, "measured": m, "met": met} for t, m, met in report.targets],
        "sections": [{"title": t, "header": h, "rows": r} for t, h, r in report.sections],
        "results": {name: result.to_json() for name, result in report.results.items()},
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(document, indent=2, default=str) + "\n"
    (out_dir / f"bench-{stamp}.json").write_text(text, encoding="utf-8")
    (out_dir / "latest.json").write_text(text, encoding="utf-8")
    (out_dir / "latest.md").write_text(render(report) + "\n", encoding="utf-8")
    print(f"bench: results in {out_dir}/bench-{stamp}.json (and latest.json, latest.md)")
