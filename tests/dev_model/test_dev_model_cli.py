"""`atoms dev model` as a developer runs it: it says where it listens and how to point the agent at it."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx
import pytest

from atoms_devtools.demo.child_process import ServiceProcess
from atoms_devtools.dev_model import DEV_MODEL_ID


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_it_announces_the_agent_settings_serves_and_exits_0_on_a_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    process = await ServiceProcess.start("dev-model", "dev", "model", "--port", "0", log_dir=tmp_path)
    try:
        match = await process.wait_for(
            r"listening on (http://127\.0\.0\.1:\d+/v1); configure the agent with (.+)"
        )
        base_url, settings = match.groups()
        assert settings == f"ATOMS_LLM_BASE_URL={base_url} ATOMS_LLM_MODEL={DEV_MODEL_ID}"
        async with httpx.AsyncClient() as http:
            models = (await http.get(f"{base_url}/models")).json()
        assert [model["id"] for model in models["data"]] == [DEV_MODEL_ID]
        process.process.send_signal(sig)  # announced only once a signal stops it gracefully
    finally:
        code = await process.stop()
    assert code == 0, await process.output()
    assert "development only" in await process.output()


async def _run(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_cli",
        "dev",
        "model",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_a_port_in_use_exits_1_with_one_line_saying_what_to_do(occupied_port: int) -> None:
    code, output = await _run("--port", str(occupied_port))
    assert code == 1, output
    assert output.strip() == (
        f"atoms dev: cannot listen on 127.0.0.1:{occupied_port} for HTTP: the port is in use; "
        "stop what holds it or choose another port with --port (0 picks a free one)"
    )


async def test_a_port_out_of_range_is_a_usage_error() -> None:
    code, output = await _run("--port", "70000")
    assert code == 2
    assert "must be a port number from 0 to 65535" in output
