"""The TypeScript package's node test suite, its integration part against the running stack.

pytest starts the stack on its event loop, then runs `tsc` and `node --test` as asyncio
subprocesses (a blocking call would stop the loop that serves the agent), passing the agent's
URL and the tokens in the environment. `make install` runs `npm ci --prefix clients/typescript`;
without its node_modules the test is skipped and says so.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clients.conftest import ClientStack, tampered

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"
TSC = PACKAGE / "node_modules" / "typescript" / "bin" / "tsc"
NODE = shutil.which("node")
INTEGRATION_SUITES = (
    "AgentClient against the running agent",
    "the example Next.js chat route against the running agent",
)

pytestmark = [
    pytest.mark.skipif(
        NODE is None, reason="node is not installed (Node 20 or later runs clients/typescript)"
    ),
    pytest.mark.skipif(
        not TSC.is_file(),
        reason="clients/typescript/node_modules is missing: "
        "run `npm ci --prefix clients/typescript` (make install)",
    ),
]


@dataclass(frozen=True)
class TapSummary:
    """The closing counts of a TAP run and the names of the top-level results."""

    counts: dict[str, int]
    passed_names: frozenset[str]
    skipped_names: frozenset[str]

    @classmethod
    def parse(cls, output: str) -> TapSummary:
        counts = {name: int(value) for name, value in re.findall(r"^# (\w+) (\d+)$", output, re.MULTILINE)}
        passed = re.findall(r"^ok \d+ - (.+?)(?: # SKIP.*)?$", output, re.MULTILINE)
        skipped = re.findall(r"^ok \d+ - (.+?) # SKIP", output, re.MULTILINE)
        return cls(counts, frozenset(passed) - frozenset(skipped), frozenset(skipped))


async def _run(*args: str, environment: dict[str, str] | None = None) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=PACKAGE,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=100)
    return process.returncode or 0, output.decode()


async def test_typescript_suite_passes_with_agent_client_against_the_running_stack(
    client_stack: ClientStack,
) -> None:
    code, output = await _run(str(NODE), str(TSC), "-p", "tsconfig.json")
    assert code == 0, f"tsc failed:\n{output}"
    token = client_stack.token("user_typescript")
    environment = os.environ | {
        "ATOMS_TEST_AGENT_HTTP_URL": client_stack.agent_http_url,
        "ATOMS_TEST_TOKEN": token,
        "ATOMS_TEST_TAMPERED_TOKEN": tampered(token),
        "ATOMS_TEST_SUBJECT": "user_typescript",
    }
    code, output = await _run(
        str(NODE), "--test", "--test-reporter=tap", "dist/test/", environment=environment
    )
    summary = TapSummary.parse(output)
    assert code == 0, f"node --test failed:\n{output}"
    assert summary.counts.get("fail") == 0, output
    assert summary.counts.get("skipped") == 0, f"skipped: {sorted(summary.skipped_names)}"
    assert summary.counts.get("pass", 0) > 0
    assert set(INTEGRATION_SUITES) <= summary.passed_names, output
