"""docs/adding-a-service.md, executed: its excerpts are the example's code, its steps work as written.

The page marks blocks with `<!-- doc-test: KIND ARGS -->`:

- `excerpt PATH`: a Python excerpt; each part between `...` lines must appear verbatim, in
  order, in PATH.
- `generate`: the stub generator command; run with `--out-dir` pointing at a temporary folder,
  its output must equal the committed stubs.
- `settings`: the exported port variables; the test exports the same names with free ports.
- `background NAME grpc=VAR|http=VAR`: a server, started with bash in a scratch directory that
  links `.venv` and `examples` (so the default `var/` paths land there), ready when its gRPC
  health says SERVING or its HTTP port answers.
- `run NAME`: a command run with bash in the same directory, variables it exports carried to
  the next `run` block, as in one terminal; its output is checked below by NAME.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from notes_service.generate_stubs import DEFAULT_OUT_DIR
from tests.support.token_factory import remember

on_the_walkthrough_loop = pytest.mark.asyncio(loop_scope="module")

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "adding-a-service.md"
PORT_VARIABLES = (
    "EMULATOR_PORT",
    "AUTH_PORT",
    "MCP_PORT",
    "AGENT_PORT",
    "AGENT_HTTP_PORT",
    "NOTES_PORT",
    "NOTES_METRICS_PORT",
)
_INHERITED_CONFIG = re.compile(r"^(ATOMS_|WORKOS_|AUTHKIT_|FASTMCP_SERVER_AUTH)")
_TAGGED_BLOCK = re.compile(r"<!-- doc-test: (?P<tag>[^>]*?) -->\n```(?P<lang>\w+)\n(?P<body>.*?)\n```", re.S)
_READY_TIMEOUT_S = 30.0
_RUN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DocBlock:
    """One tagged block of the page."""

    kind: str
    args: tuple[str, ...]
    body: str


def doc_blocks(kind: str | None = None) -> list[DocBlock]:
    """The page's tagged blocks in order, optionally only those of one kind."""
    blocks = []
    for match in _TAGGED_BLOCK.finditer(DOC.read_text()):
        tag_kind, *args = match["tag"].split()
        blocks.append(DocBlock(tag_kind, tuple(args), match["body"]))
    return [block for block in blocks if kind is None or block.kind == kind]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    "block",
    doc_blocks("excerpt"),
    ids=[f"{block.args[0]} #{index}" for index, block in enumerate(doc_blocks("excerpt"))],
)
def test_python_excerpt_is_verbatim_in_the_example_source(block: DocBlock) -> None:
    source = (REPO_ROOT / block.args[0]).read_text()
    parts = re.split(r"^\.\.\.$\n?", block.body, flags=re.M)
    position = 0
    for part in (part.strip("\n") for part in parts):
        found = source.find(part, position)
        assert found >= 0, f"not in {block.args[0]} (after offset {position}):\n{part}"
        position = found + len(part)


def test_settings_block_exports_the_port_variables_the_test_sets() -> None:
    (settings,) = doc_blocks("settings")
    exported = re.findall(r"\b([A-Z_]+)=\d+", settings.body)
    assert sorted(exported) == sorted(PORT_VARIABLES)


def test_generate_step_writes_exactly_the_committed_stubs(tmp_path: Path) -> None:
    (generate,) = doc_blocks("generate")
    command = f"{generate.body} --out-dir {shlex.quote(str(tmp_path))}"
    done = subprocess.run(
        ["bash", "-c", command], cwd=REPO_ROOT, env=_clean_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _files(tmp_path) == _files(DEFAULT_OUT_DIR)


def _files(root: Path) -> dict[Path, bytes]:
    return {
        path.relative_to(root): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@dataclass
class Background:
    """A server the page starts, its output in a log file."""

    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def stop(self, timeout_s: float = 20.0) -> int:
        """SIGTERM to its process group, then wait (SIGKILL after the timeout); return the exit code."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout=timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            return await self.process.wait()


@dataclass
class Walkthrough:
    """The page's steps, run: the servers still running, each `run` block's exit code and output."""

    workdir: Path
    env: dict[str, str]
    servers: dict[str, Background] = field(default_factory=dict)
    runs: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def token(self) -> str:
        """The token the `token` step exported."""
        match = re.search(r'^declare -x TOKEN="([^"]+)"$', (self.workdir / "shell.env").read_text(), re.M)
        assert match, "the token step exported no TOKEN"
        return match.group(1)

    def output(self, name: str) -> str:
        code, output = self.runs[name]
        assert code == 0, f"step {name} failed ({code}):\n{output}"
        return output


def _clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not _INHERITED_CONFIG.match(key)}


async def _bash(script: str, *, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        script,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=_RUN_TIMEOUT_S)
    return process.returncode or 0, output.decode()


async def _start(walkthrough: Walkthrough, block: DocBlock) -> None:
    name, readiness = block.args
    log_path = walkthrough.workdir / f"{name}.log"
    with log_path.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            block.body,
            cwd=walkthrough.workdir,
            env=walkthrough.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: the stop signal reaches all it started
        )
    server = walkthrough.servers[name] = Background(name, process, log_path)
    protocol, _, variable = readiness.partition("=")
    port = int(walkthrough.env[variable])
    try:
        async with asyncio.timeout(_READY_TIMEOUT_S):
            while not await _answers(protocol, port):
                assert process.returncode is None, f"{name} exited ({process.returncode}):\n{server.log()}"
                await asyncio.sleep(0.1)
    except TimeoutError as err:
        raise AssertionError(f"{name} not ready within {_READY_TIMEOUT_S:.0f}s:\n{server.log()}") from err


async def _answers(protocol: str, port: int) -> bool:
    try:
        if protocol == "grpc":
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                reply = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=1
                )
            return reply.status == health_pb2.HealthCheckResponse.SERVING
        async with httpx.AsyncClient(timeout=1) as http:
            await http.get(f"http://127.0.0.1:{port}/")
        return True
    except (grpc.aio.AioRpcError, httpx.TransportError):
        return False


async def _run(walkthrough: Walkthrough, block: DocBlock) -> None:
    state = walkthrough.workdir / "shell.env"
    # One terminal: what earlier steps exported is sourced; the step's own exit status is kept.
    script = "\n".join(
        (
            "set -uo pipefail",
            f"source {state}",
            block.body,
            "status=$?",
            f"export -p > {state}",
            "exit $status",
        )
    )
    walkthrough.runs[block.args[0]] = await _bash(script, cwd=walkthrough.workdir, env=walkthrough.env)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def walkthrough(tmp_path_factory) -> AsyncIterator[Walkthrough]:
    """Every `background` and `run` step of the page, in order, in a scratch directory."""
    workdir = tmp_path_factory.mktemp("adding-a-service")
    (workdir / ".venv").symlink_to(Path(sys.executable).parent.parent)  # the venv running the tests
    (workdir / "examples").symlink_to(REPO_ROOT / "examples")
    ports = {name: str(_free_port()) for name in PORT_VARIABLES}
    (workdir / "shell.env").write_text("".join(f"export {k}={v}\n" for k, v in ports.items()))
    # The page runs from the repository root, where `atoms dev …` finds var/authkit/keys.json by
    # itself; the scratch directory is outside any repository, so it names the same file.
    keys_file = {"ATOMS_AUTHKIT_KEYS_FILE": str(workdir / "var" / "authkit" / "keys.json")}
    walkthrough = Walkthrough(workdir=workdir, env={**_clean_env(), **ports, **keys_file})
    try:
        for block in doc_blocks():
            if block.kind == "background":
                await _start(walkthrough, block)
            elif block.kind == "run":
                await _run(walkthrough, block)
        remember(walkthrough.token)
        yield walkthrough
    finally:
        for server in reversed(list(walkthrough.servers.values())):
            await server.stop()


@on_the_walkthrough_loop
async def test_reflection_lists_the_service_and_resolves_a_method_symbol(walkthrough: Walkthrough) -> None:
    output = walkthrough.output("list")
    assert "notes.v1.NotesService" in output.split()
    assert "rpc CreateNote ( .notes.v1.CreateNoteRequest ) returns ( .notes.v1.CreateNoteResponse )" in output


@on_the_walkthrough_loop
async def test_created_note_is_listed(walkthrough: Walkthrough) -> None:
    created = json.loads(walkthrough.output("create"))["note"]
    listed = json.loads(walkthrough.output("list-notes"))["notes"]
    assert (created["title"], created["author"]) == ("Ship the kit", "user_ada")
    assert [note["note_id"] for note in listed] == [created["note_id"]]


@on_the_walkthrough_loop
async def test_call_without_a_token_is_unauthenticated_missing_token(walkthrough: Walkthrough) -> None:
    code, output = walkthrough.runs["no-token"]
    assert code != 0
    error = json.loads(output)
    assert (error["code"], error["details"][0]["reason"]) == (16, "MISSING_TOKEN")


@on_the_walkthrough_loop
async def test_token_for_another_audience_is_refused_invalid_audience(walkthrough: Walkthrough) -> None:
    code, output = walkthrough.runs["wrong-audience"]
    assert code != 0
    error = json.loads(output)
    assert (error["code"], error["details"][0]["reason"]) == (16, "INVALID_AUDIENCE")


@on_the_walkthrough_loop
async def test_whoami_reaches_the_atoms_mcp_as_the_same_user(walkthrough: Walkthrough) -> None:
    reply = json.loads(walkthrough.output("whoami"))
    assert reply == {
        "subject": "user_ada",
        "org_id": "org_acme",
        "atoms_mcp_subject": "user_ada",
        "atoms_mcp_org_id": "org_acme",
    }


@on_the_walkthrough_loop
async def test_proto_file_serves_in_place_of_reflection(walkthrough: Walkthrough) -> None:
    assert json.loads(walkthrough.output("proto-file"))["notes"][0]["title"] == "Ship the kit"


@on_the_walkthrough_loop
async def test_metrics_count_the_notes_rpcs_by_code_and_reason(walkthrough: Walkthrough) -> None:
    output = walkthrough.output("metrics")
    assert re.search(r'grpc_code="OK",grpc_method="CreateNote",grpc_service="notes.v1.NotesService"', output)
    assert re.search(r'grpc_code="UNAUTHENTICATED",grpc_method="ListNotes",.*reason="MISSING_TOKEN"', output)


@on_the_walkthrough_loop
async def test_no_service_log_contains_the_token(walkthrough: Walkthrough) -> None:
    token = walkthrough.token
    leaking = [name for name, server in walkthrough.servers.items() if token in server.log()]
    assert not leaking


@on_the_walkthrough_loop
async def test_notes_service_stops_gracefully_on_sigterm(walkthrough: Walkthrough) -> None:
    notes = walkthrough.servers.pop("notes")
    assert await notes.stop() == 0
    messages = [json.loads(line)["message"] for line in notes.log().splitlines() if line.startswith("{")]
    assert "notes service started" in messages
    requested = next(i for i, m in enumerate(messages) if m.startswith("notes service: shutdown requested"))
    assert "(SIGTERM)" in messages[requested]
    assert "gRPC server stopped" in messages[requested:]
