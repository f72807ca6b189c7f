"""`make run-agent` starts the dev model for the agent unless a model is configured, and stops both.

Run as a developer runs it, on free ports, then stopped with SIGTERM or Ctrl-C; the helpers
(make in a session of its own, the process-group census) are those of
tests/test_make_run_targets.py.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
from pathlib import Path

import pytest

from atoms_devtools.dev_model import DEV_MODEL_ID
from tests.test_make_run_targets import (
    _environment,
    _first_answer,
    _free_port,
    _make,
    _stop_and_check_nothing_survives,
)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def _environ_of(pid: int) -> dict[str, str]:
    with contextlib.suppress(OSError):
        raw = Path(f"/proc/{pid}/environ").read_bytes()
        return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
    return {}


def _running(members: dict[int, str], *command: str) -> list[int]:
    """The pids of `atoms COMMAND…` processes (not the recipe shell whose script names them)."""
    found = []
    for pid, line in members.items():
        words = line.split()
        if len(words) > len(command) + 1 and words[1].endswith("/atoms") and tuple(words[2:4]) == command:
            found.append(pid)
    return found


def _agent_environ(members: dict[int, str]) -> dict[str, str]:
    agents = _running(members, "agent", "serve")
    assert len(agents) == 1, members
    return _environ_of(agents[0])


def _variables(tmp_path: Path) -> tuple[tuple[str, ...], int, int]:
    agent_http, model = _free_port(), _free_port()
    variables = (
        f"AGENT_PORT={_free_port()}",
        f"AGENT_HTTP_PORT={agent_http}",
        f"DEV_MODEL_PORT={model}",
        f"AUTH_PORT={_free_port()}",
        f"MCP_PORT={_free_port()}",
    )
    return variables, agent_http, model


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_make_run_agent_without_a_model_starts_the_dev_model_for_it_and_stops_both(
    tmp_path: Path, sig: signal.Signals
) -> None:
    variables, agent_http, model = _variables(tmp_path)
    env = _environment(ATOMS_AGENT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'agent.db'}")
    async with _make(tmp_path, "run-agent", *variables, env=env) as make:
        models = await _first_answer(f"http://127.0.0.1:{model}/v1/models")
        assert [entry["id"] for entry in models.json()["data"]] == [DEV_MODEL_ID], make.tail()
        assert (await _first_answer(f"http://127.0.0.1:{agent_http}/health")).status_code == 200
        members = make.members()
        assert len(_running(members, "dev", "model")) == 1, members
        agent_environ = _agent_environ(members)
        assert agent_environ.get("ATOMS_LLM_BASE_URL") == f"http://127.0.0.1:{model}/v1"
        assert agent_environ.get("ATOMS_LLM_MODEL") == DEV_MODEL_ID
        await _stop_and_check_nothing_survives(make, sig)


@pytest.mark.slow
async def test_make_run_agent_with_a_configured_model_starts_no_dev_model(tmp_path: Path) -> None:
    variables, agent_http, _ = _variables(tmp_path)
    configured = f"http://127.0.0.1:{_free_port()}/v1"
    env = _environment(
        ATOMS_AGENT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'agent.db'}",
        ATOMS_LLM_BASE_URL=configured,
        ATOMS_LLM_MODEL="a-real-model",
    )
    async with _make(tmp_path, "run-agent", *variables, env=env) as make:
        assert (await _first_answer(f"http://127.0.0.1:{agent_http}/health")).status_code == 200
        members = make.members()
        assert _running(members, "dev", "model") == [], members
        assert _agent_environ(members).get("ATOMS_LLM_BASE_URL") == configured
        await _stop_and_check_nothing_survives(make, signal.SIGTERM)
