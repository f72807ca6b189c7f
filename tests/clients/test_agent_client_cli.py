"""`atoms chat` and `atoms call-tool` as real processes against the running stack."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from atoms_agent_client.cli import UsageError, parse_tool_arguments
from atoms_auth.settings import AuthSettings, InternalTokenSpec
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from tests.clients.conftest import ORG_ID, ClientStack, tampered
from tests.support.token_factory import remember

_CLIENT_VARIABLES = ("ATOMS_TOKEN", "ATOMS_AGENT_ADDR", "ATOMS_AGENT_HTTP_URL", "ATOMS_AGENT_TIMEOUT_S")


@dataclass(frozen=True)
class Finished:
    """A finished `atoms` process."""

    code: int
    stdout: str
    stderr: str


async def atoms(*args: str, **variables: str) -> Finished:
    """Run `atoms ARGS` without blocking the loop that serves the stack."""
    environment = {k: v for k, v in os.environ.items() if k not in _CLIENT_VARIABLES} | variables
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_cli",
        *args,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return Finished(process.returncode or 0, stdout.decode(), stderr.decode())


def _at(stack: ClientStack) -> dict[str, str]:
    return {"ATOMS_AGENT_ADDR": stack.agent_address, "ATOMS_AGENT_HTTP_URL": stack.agent_http_url}


async def test_call_tool_whoami_prints_the_users_principal_as_json(client_stack) -> None:
    token = client_stack.token("user_cli")
    done = await atoms("call-tool", "atoms", "whoami", ATOMS_TOKEN=token, **_at(client_stack))
    assert done.code == 0, done.stderr
    me = json.loads(done.stdout)
    assert (me["kind"], me["subject"], me["org_id"]) == ("user", "user_cli", ORG_ID)
    assert token not in done.stdout + done.stderr


async def test_call_tool_takes_the_token_and_agent_from_flags_and_arguments_from_arg(client_stack) -> None:
    token = client_stack.token("user_flags", permissions=["projects:write"])
    done = await atoms(
        "call-tool",
        "--token",
        token,
        "--agent",
        client_stack.agent_address,
        "atoms",
        "create_project",
        "--arg",
        "name=From the shell",
        "--arg",
        'description:="made by atoms call-tool"',
    )
    assert done.code == 0, done.stderr
    project = json.loads(done.stdout)
    assert (project["name"], project["description"]) == ("From the shell", "made by atoms call-tool")


async def test_chat_streams_the_answer_over_grpc(client_stack) -> None:
    token = client_stack.token("user_cli_chat")
    done = await atoms("chat", "who", "am", "I?", ATOMS_TOKEN=token, **_at(client_stack))
    assert done.code == 0, done.stderr
    assert '"subject":"user_cli_chat"' in done.stdout.replace(" ", "")
    assert "[tool atoms.whoami]" in done.stderr


async def test_chat_streams_the_answer_over_the_http_face(client_stack) -> None:
    token = client_stack.token("user_cli_http")
    done = await atoms("chat", "--http", "who am I?", ATOMS_TOKEN=token, **_at(client_stack))
    assert done.code == 0, done.stderr
    assert '"subject":"user_cli_http"' in done.stdout.replace(" ", "")


@pytest.mark.parametrize("face", [pytest.param([], id="grpc"), pytest.param(["--http"], id="http")])
async def test_a_tampered_token_exits_1_with_the_reason(client_stack, face: list[str]) -> None:
    token = tampered(client_stack.token())
    done = await atoms("chat", *face, "hi", ATOMS_TOKEN=token, **_at(client_stack))
    assert done.code == 1
    assert "UNAUTHENTICATED INVALID_SIGNATURE" in done.stderr
    assert token not in done.stdout + done.stderr


async def test_no_token_exits_2_and_says_where_a_token_comes_from(client_stack) -> None:
    done = await atoms("call-tool", "atoms", "whoami", **_at(client_stack))
    assert done.code == 2
    assert "ATOMS_TOKEN" in done.stderr


async def test_a_tool_error_result_is_printed_and_exits_1(client_stack) -> None:
    token = client_stack.token()
    done = await atoms(
        "call-tool", "atoms", "create_project", "--arg", "name=x", ATOMS_TOKEN=token, **_at(client_stack)
    )
    assert done.code == 1
    assert json.loads(done.stdout)["is_error"] is True


@pytest.mark.parametrize(
    ("items", "arguments"),
    [
        pytest.param(["name=Demo"], {"name": "Demo"}, id="text"),
        pytest.param(["limit:=5", "open:=true"], {"limit": 5, "open": True}, id="json"),
        pytest.param(["expr=a=b"], {"expr": "a=b"}, id="text with an equals sign"),
        pytest.param(['tags:=["a","b"]'], {"tags": ["a", "b"]}, id="json list"),
        pytest.param(["n=5"], {"n": "5"}, id="digits stay text without :="),
    ],
)
def test_tool_arguments_are_read_as_text_or_json(items: list[str], arguments: dict[str, object]) -> None:
    assert parse_tool_arguments(items) == arguments


@pytest.mark.parametrize("item", ["novalue", "=x", ":=1", "n:=not json"])
def test_a_malformed_tool_argument_is_a_usage_error(item: str) -> None:
    with pytest.raises(UsageError):
        parse_tool_arguments([item])


@pytest.mark.parametrize(
    ("prefix", "via"),
    [
        pytest.param("Bearer ", "env", id="ATOMS_TOKEN=Bearer ..."),
        pytest.param("bearer ", "flag", id="--token 'bearer ...'"),
    ],
)
async def test_a_token_pasted_with_its_bearer_prefix_is_accepted(client_stack, prefix: str, via: str) -> None:
    token = client_stack.token("user_pasted")
    pasted = f"{prefix}{token}"
    given = {"ATOMS_TOKEN": pasted} if via == "env" else {}
    flags = ["--token", pasted] if via == "flag" else []
    done = await atoms("call-tool", *flags, "atoms", "whoami", **given, **_at(client_stack))
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout)["subject"] == "user_pasted"


@pytest.fixture
async def not_the_agent(start_auth_server) -> str:
    """The address of a real gRPC service that is not the agent (an auth service)."""
    token = remember("clients-not-the-agent-internal-" + "t" * 16)
    auth = await start_auth_server(
        AuthSettings(internal_tokens=(InternalTokenSpec("agent", SecretStr(token)),))
    )
    return f"127.0.0.1:{auth.port}"


@pytest.mark.parametrize(
    "command",
    [pytest.param(["call-tool", "atoms", "whoami"], id="call-tool"), pytest.param(["chat", "hi"], id="chat")],
)
async def test_a_grpc_service_that_is_not_the_agent_is_named_with_the_setting_to_fix(
    not_the_agent: str, command: list[str]
) -> None:
    done = await atoms(*command, ATOMS_TOKEN="any-token", ATOMS_AGENT_ADDR=not_the_agent)
    assert done.code == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"atoms {command[0]}: {not_the_agent} answered UNIMPLEMENTED, so it is not the agent; point "
        "ATOMS_AGENT_ADDR or --agent at the agent's gRPC address (default 127.0.0.1:50052)"
    ]


async def test_an_http_server_that_is_not_the_agent_is_named_with_the_setting_to_fix() -> None:
    server = EmbeddedHttpServer(Starlette(), lifespan="off")
    await server.start()
    try:
        done = await atoms("chat", "--http-url", server.base_url, "hi", ATOMS_TOKEN="any-token")
    finally:
        await server.stop()
    assert done.code == 2
    assert done.stderr.strip().splitlines() == [
        f"atoms chat: {server.base_url} answered HTTP 404, so it is not the agent; point "
        "ATOMS_AGENT_HTTP_URL or --http-url at the agent's HTTP address (default http://127.0.0.1:3284)"
    ]
