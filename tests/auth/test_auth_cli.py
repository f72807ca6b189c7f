"""`atoms auth serve` as an operator runs it: real processes, the emulator, grpcurl, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.token_factory import ISSUED_TOKENS, remember

PYTHON = sys.executable
GRPCURL = str(Path(sys.executable).parent / "grpcurl")
_SEED_VARIABLES = (
    "WORKOS_CLIENT_ID",
    "WORKOS_API_BASE_URL",
    "AUTHKIT_DOMAIN",
    "FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_AUTHKIT_DOMAIN",
    "ATOMS_INTERNAL_TOKEN",
    "ATOMS_INTERNAL_TOKENS_FILE",
    "ATOMS_AUTH_CONFIG",
)


def _clean_env(**variables: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _SEED_VARIABLES}
    return {**env, **variables}


async def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env or _clean_env()
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_serve_without_anything_to_trust_exits_with_a_clear_message() -> None:
    code, _, err = await _run(PYTHON, "-m", "atoms_cli", "auth", "serve", "--port", "0")
    assert code == 2
    assert "nothing to trust" in err
    assert "WORKOS_CLIENT_ID" in err


async def test_serve_with_a_short_internal_token_exits_naming_the_variable() -> None:
    env = _clean_env(ATOMS_INTERNAL_TOKEN=remember("short-token-value"))
    code, _, err = await _run(PYTHON, "-m", "atoms_cli", "auth", "serve", "--port", "0", env=env)
    assert code == 2
    assert "ATOMS_INTERNAL_TOKEN" in err
    assert "short-token-value" not in err


class _Process:
    """A child process whose stderr is read line by line in the background."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode().rstrip())

    async def wait_for_line(self, pattern: str, timeout_s: float = 20) -> re.Match[str]:
        async with asyncio.timeout(timeout_s):
            while True:
                for line in self.lines:
                    if match := re.search(pattern, line):
                        return match
                if self.process.returncode is not None:
                    raise AssertionError(f"process exited: {self.lines[-5:]}")
                await asyncio.sleep(0.05)

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), timeout=30)
        await self._reader
        return code


async def _spawn(*args: str, env: dict[str, str]) -> _Process:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    return _Process(process)


@pytest.fixture
async def emulator(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    keys = tmp_path / "keys.json"
    child = await _spawn(
        PYTHON,
        "-m",
        "atoms_cli",
        "dev",
        "authkit",
        "--port",
        "0",
        "--keys-file",
        str(keys),
        env=_clean_env(),
    )
    assert child.process.stdout is not None
    line = (await asyncio.wait_for(child.process.stdout.readline(), timeout=20)).decode()
    base = re.search(r"listening on (http://\S+?);", line)
    assert base, line
    yield base.group(1), keys
    await child.stop()


async def test_operator_path_emulator_auth_service_token_and_grpcurl(emulator) -> None:
    base, keys = emulator
    internal = remember((await _run(PYTHON, "-m", "atoms_cli", "dev", "internal-token"))[1].strip())
    env = _clean_env(
        WORKOS_CLIENT_ID="client_atoms_dev", WORKOS_API_BASE_URL=f"{base}/", ATOMS_INTERNAL_TOKEN=internal
    )
    auth = await _spawn(
        PYTHON,
        "-m",
        "atoms_cli",
        "auth",
        "serve",
        "--port",
        "0",
        "--no-metrics",
        "--log-level",
        "DEBUG",
        env=env,
    )
    started = await auth.wait_for_line(r'"grpc_port": (\d+)')
    address = f"127.0.0.1:{started.group(1)}"
    await auth.wait_for_line(r"JWKS fetched")
    code, token, _ = await _run(
        PYTHON,
        "-m",
        "atoms_cli",
        "dev",
        "token",
        "--sub",
        "user_1",
        "--org",
        "org_1",
        "--issuer",
        base,
        "--keys-file",
        str(keys),
    )
    token = remember(token.strip())
    assert code == 0
    code, out, err = await _run(
        GRPCURL,
        "-plaintext",
        "-d",
        json.dumps({"token": token}),
        address,
        "atoms.auth.v1.AuthService/ValidateToken",
    )
    assert code == 0, err
    principal = json.loads(out)["principal"]
    assert (principal["subject"], principal["org_id"]) == ("user_1", "org_1")
    tampered = remember(token[:-6] + "AAAAAA")
    code, out, err = await _run(
        GRPCURL,
        "-plaintext",
        "-format-error",
        "-d",
        json.dumps({"token": tampered}),
        address,
        "atoms.auth.v1.AuthService/ValidateToken",
    )
    assert code != 0
    assert json.loads(out or err)["details"][0]["reason"] == "INVALID_SIGNATURE"
    assert await auth.stop() == 0
    records = [json.loads(line) for line in auth.lines if line.startswith("{")]
    assert any("event loop uvloop" in record["message"] for record in records)
    assert any(record["message"] == "gRPC server stopped" for record in records)
    assert all(secret not in line for line in auth.lines for secret in ISSUED_TOKENS)


def _problem_lines(stderr: str) -> list[str]:
    """What the program printed besides its JSON log lines."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("{")]


async def _serve_internal_only(*flags: str, **variables: str) -> tuple[int, str]:
    env = _clean_env(ATOMS_INTERNAL_TOKEN=remember("i" * 40), **variables)
    code, _, err = await _run(PYTHON, "-m", "atoms_cli", "auth", "serve", *flags, env=env)
    return code, err


async def test_serve_on_a_grpc_port_in_use_exits_1_with_one_line_naming_the_port_and_the_flag(
    occupied_port: int,
) -> None:
    code, err = await _serve_internal_only("--port", str(occupied_port), "--no-metrics")
    assert code == 1
    assert "Traceback" not in err
    assert _problem_lines(err) == [
        f"atoms auth serve: cannot listen on 127.0.0.1:{occupied_port} for gRPC: the port is in use; "
        "stop what holds it or choose another port with --port (0 picks a free one)"
    ]


async def test_serve_with_a_metrics_port_in_use_exits_1_with_one_line_naming_the_metrics_flag(
    occupied_port: int,
) -> None:
    code, err = await _serve_internal_only("--port", "0", "--metrics-port", str(occupied_port))
    assert code == 1
    assert "Traceback" not in err
    assert _problem_lines(err) == [
        f"atoms auth serve: cannot listen on 127.0.0.1:{occupied_port} for metrics: the port is in use; "
        "stop what holds it or choose another port with --metrics-port (0 picks a free one)"
    ]


@pytest.mark.parametrize(
    ("flags", "variables"),
    [
        pytest.param(("--log-level", "LOUD"), {}, id="flag"),
        pytest.param((), {"ATOMS_LOG_LEVEL": "LOUD"}, id="ATOMS_LOG_LEVEL"),
    ],
)
async def test_an_unknown_log_level_exits_2_naming_the_setting(
    flags: tuple[str, ...], variables: dict[str, str]
) -> None:
    code, err = await _serve_internal_only("--port", "0", "--no-metrics", *flags, **variables)
    assert code == 2
    assert "Traceback" not in err
    assert _problem_lines(err) == [
        "atoms auth serve: configuration error: --log-level / ATOMS_LOG_LEVEL: 'LOUD' is not a log level; "
        "use DEBUG, INFO, WARNING or ERROR"
    ]
