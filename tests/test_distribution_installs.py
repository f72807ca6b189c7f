"""Each distribution installs on its own, in a fresh virtual environment, from copies of its folders.

- The auth service alone: `atoms` offers only `auth`, `atoms auth serve` answers a real
  ValidateToken, and FastMCP, the MCP SDK and SQLAlchemy are not even importable.
- The kit and the notes example alone: the example's own tests pass.

pip resolves the project's distributions from the copied folders and everything else from
the package index (its cache makes a second run quick). These tests take a minute or two.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from importlib.metadata import version as _version
from pathlib import Path

import grpc
import pytest

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_devtools.trace_receiver.otlp_receiver import OtlpTraceReceiver
from tests.support.token_factory import remember

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent
_INSTALL_TIMEOUT_S = 900
# The auth service's own distribution and the project distributions it depends on.
AUTH_ONLY = ("gen/python", "services/atoms_grpc", "services/cli", "services/auth")
KIT_AND_NOTES = ("gen/python", "services/atoms_grpc", "examples/notes")
NOT_FOR_THE_AUTH_SERVICE = ("fastmcp", "mcp", "sqlalchemy", "atoms_mcp", "atoms_agent", "atoms_devtools")


def _copy(folders: tuple[str, ...], into: Path) -> list[Path]:
    """Copy each distribution folder (sources only) so the build never writes into the checkout."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "node_modules", ".pytest_cache")
    copies = []
    for folder in folders:
        target = into / folder
        shutil.copytree(REPO_ROOT / folder, target, ignore=ignore)
        copies.append(target)
    return copies


def _fresh_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    return path / "bin"


def _pip_install(bin_dir: Path, *requirements: str) -> None:
    result = subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=_INSTALL_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def _clean_env(**variables: str) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CERT"}
    env = {key: value for key, value in os.environ.items() if key in keep or key.startswith("SSL_")}
    return {**env, **variables}


@pytest.fixture(scope="module")
def auth_only_venv(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("auth-only")
    bin_dir = _fresh_venv(work / "venv")
    _pip_install(bin_dir, *(str(path) for path in _copy(AUTH_ONLY, work / "src")))
    return bin_dir


def test_the_auth_service_installs_without_fastmcp_the_mcp_sdk_or_sqlalchemy(auth_only_venv: Path) -> None:
    probe = (
        "import importlib.util, json; "
        "print(json.dumps({name: importlib.util.find_spec(name) is not None "
        f"for name in {NOT_FOR_THE_AUTH_SERVICE!r}}}))"
    )
    result = subprocess.run(
        [str(auth_only_venv / "python"), "-c", probe], capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == dict.fromkeys(NOT_FOR_THE_AUTH_SERVICE, False)


def test_the_atoms_program_offers_only_the_installed_services_commands(auth_only_venv: Path) -> None:
    result = subprocess.run(
        [str(auth_only_venv / "atoms"), "--help"], capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert result.returncode == 0, result.stderr
    # argparse lists each sub-command on its own line, indented by four spaces, under COMMAND.
    assert re.findall(r"^    (\S+)", result.stdout, flags=re.MULTILINE) == ["auth"], result.stdout


async def _listening_port(process: asyncio.subprocess.Process) -> int:
    """The gRPC port `atoms auth serve` logs once it listens (read from its standard error)."""
    assert process.stderr is not None
    async with asyncio.timeout(60):
        while True:
            line = (await process.stderr.readline()).decode()
            assert line, "atoms auth serve exited before it listened"
            if match := re.search(r'"grpc_port": (\d+)', line):
                return int(match.group(1))


async def test_atoms_auth_serve_from_the_auth_distribution_alone_validates_a_token(
    auth_only_venv: Path,
) -> None:
    internal = remember(secrets.token_urlsafe(36))
    process = await asyncio.create_subprocess_exec(
        str(auth_only_venv / "atoms"),
        "auth",
        "serve",
        "--port",
        "0",
        "--no-metrics",
        stderr=asyncio.subprocess.PIPE,
        env=_clean_env(ATOMS_INTERNAL_TOKEN=internal),
        cwd="/",
    )
    try:
        port = await _listening_port(process)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = await auth_pb2_grpc.AuthServiceStub(channel).ValidateToken(
                auth_pb2.ValidateTokenRequest(token=internal), timeout=10
            )
        assert reply.principal.kind == auth_pb2.PRINCIPAL_KIND_INTERNAL
    finally:
        if process.returncode is None:
            process.terminate()
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0


_EXPORTER_IMPORT = "from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter"


def test_an_auth_only_install_asked_to_trace_loads_the_exporter_or_names_the_fix(
    auth_only_venv: Path,
) -> None:
    """xds-protos carries an older copy of the OpenTelemetry protos in opentelemetry-proto's files.

    Where it was installed last the OTLP exporter cannot load, and `atoms auth serve` asked to
    trace says so and how to fix it (exit 2); the fix, which services/auth/Dockerfile and
    `make install` run, makes the exporter load.
    """
    python = str(auth_only_venv / "python")
    loads = subprocess.run([python, "-c", _EXPORTER_IMPORT], capture_output=True, timeout=60, cwd="/")
    if loads.returncode != 0:
        refused = subprocess.run(
            [str(auth_only_venv / "atoms"), "auth", "serve", "--port", "0", "--no-metrics"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_clean_env(
                ATOMS_INTERNAL_TOKEN=remember(secrets.token_urlsafe(36)),
                OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:1",
            ),
            cwd="/",
        )
        assert refused.returncode == 2, refused.stderr
        assert "pip install --no-deps --force-reinstall opentelemetry-proto" in refused.stderr
    _put_opentelemetry_protos_back(auth_only_venv)
    fixed = subprocess.run(
        [python, "-c", _EXPORTER_IMPORT], capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert fixed.returncode == 0, fixed.stderr


def _put_opentelemetry_protos_back(bin_dir: Path) -> None:
    pinned = f"opentelemetry-proto=={_version('opentelemetry-proto')}"
    _pip_install(bin_dir, "--no-deps", "--force-reinstall", pinned)


async def test_the_auth_service_of_an_auth_only_install_exports_its_spans(auth_only_venv: Path) -> None:
    _put_opentelemetry_protos_back(auth_only_venv)  # what the image does; a no-op when done
    receiver = OtlpTraceReceiver()
    await receiver.start()
    internal = remember(secrets.token_urlsafe(36))
    process = await asyncio.create_subprocess_exec(
        str(auth_only_venv / "atoms"),
        *("auth", "serve", "--port", "0", "--no-metrics"),
        stderr=asyncio.subprocess.PIPE,
        env={**_clean_env(ATOMS_INTERNAL_TOKEN=internal), **receiver.exporter_environment()},
        cwd="/",
    )
    try:
        port = await _listening_port(process)
        trace_id = secrets.token_hex(16)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await auth_pb2_grpc.AuthServiceStub(channel).ValidateToken(
                auth_pb2.ValidateTokenRequest(token=internal),
                metadata=(("traceparent", f"00-{trace_id}-{secrets.token_hex(8)}-01"),),
                timeout=10,
            )
        (span,) = await receiver.wait_for_trace(trace_id, bool, timeout_s=30)
        assert (span.service, span.name) == ("atoms-auth", "/atoms.auth.v1.AuthService/ValidateToken")
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
        await receiver.stop()


def test_the_notes_examples_own_tests_pass_with_only_the_kit_installed(tmp_path: Path) -> None:
    bin_dir = _fresh_venv(tmp_path / "venv")
    copies = _copy(KIT_AND_NOTES, tmp_path / "src")
    notes = copies[-1]
    _pip_install(bin_dir, *(str(path) for path in copies[:-1]), f"{notes}[test]")
    absent = subprocess.run(
        [str(bin_dir / "python"), "-c", "import atoms_auth"], capture_output=True, timeout=60, cwd="/"
    )
    assert absent.returncode != 0  # no service is installed
    result = subprocess.run(
        [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=notes,
        env=_clean_env(),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout[-500:]
