"""A person's path through the Atoms chat front end, in a real browser (Debian's Chromium).

The whole stack runs as processes on free loopback ports: the local AuthKit (access tokens
live 5 s here), the auth service, the Atoms MCP, `atoms dev model`, the agent, and `next start`
of the built app. tests/web/browser_walk.mjs walks the pages with playwright-core and reports
what they showed; this test asserts on it. Screenshots of each step land in var/web-test/.

This covers the integration plan's end-to-end checklist (see tests/e2e/README.md): the user
logs in via AuthKit; the front end sends the chat with the user's token; the agent forwards it;
the Atoms MCP validates it and answers as that user; no OAuth prompt happens. Every process
traces (OTEL_*) to a collector served by the test: a chat is one trace from the web app's
route to the Atoms MCP's tool.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from atoms_devtools.demo.web_stack import REPO_ROOT, WebStack, running_web_stack
from atoms_devtools.trace_receiver.otlp_receiver import OtlpTraceReceiver, ReceivedSpan
from atoms_devtools.trace_receiver.trace_tree import every_hop_arrived, render_trace_tree
from tests.web.conftest import web_env

ACCESS_TOKEN_TTL_S = 5
SHOTS_DIR = REPO_ROOT / "var" / "web-test"
WALK = Path(__file__).with_name("browser_walk.mjs")
WALK_TIMEOUT_S = 240


@pytest.fixture
async def traces() -> AsyncIterator[OtlpTraceReceiver]:
    receiver = OtlpTraceReceiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@pytest.fixture
async def stack(
    tmp_path: Path,
    built_web_app: subprocess.CompletedProcess[str],
    chromium: Path,
    traces: OtlpTraceReceiver,
) -> Any:
    assert built_web_app.returncode == 0, built_web_app.stdout + built_web_app.stderr
    async with running_web_stack(
        tmp_path, access_token_ttl_s=ACCESS_TOKEN_TTL_S, tracing_env=traces.exporter_environment()
    ) as running:
        yield running


async def _walk(stack: WebStack, chromium: Path, tmp_path: Path) -> dict[str, Any]:
    shutil.rmtree(SHOTS_DIR, ignore_errors=True)
    SHOTS_DIR.mkdir(parents=True)
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    config = tmp_path / "walk.json"
    config.write_text(
        json.dumps(
            {
                "webUrl": stack.web_url,
                "issuer": stack.issuer,
                "shotsDir": str(SHOTS_DIR),
                "profilesDir": str(profiles),
                "accessTokenTtlS": ACCESS_TOKEN_TTL_S,
                "chromium": str(chromium),
            }
        )
    )
    process = await asyncio.create_subprocess_exec(
        "node",
        str(WALK),
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=web_env(),
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=WALK_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"the browser walk did not finish within {WALK_TIMEOUT_S}s; logs in {stack.workdir}")
    assert process.returncode == 0, f"{stderr.decode()}\nlogs in {stack.workdir}"
    return json.loads(stdout.decode().strip().splitlines()[-1])


def _steps(observed: dict[str, Any], step: str, who: str) -> list[dict[str, Any]]:
    return [item for item in observed["steps"] if item["step"] == step and item["who"] == who]


def _asked(observed: dict[str, Any], who: str, question: str) -> list[dict[str, Any]]:
    return [item for item in _steps(observed, "asked", who) if item["question"] == question]


async def test_a_person_signs_in_chats_as_themselves_and_signs_out(
    stack: WebStack, chromium: Path, tmp_path: Path, traces: OtlpTraceReceiver
) -> None:
    observed = await _walk(stack, chromium, tmp_path)
    await _check_a_chat_is_one_trace_from_the_web_route_to_the_mcp_tool(traces)

    # Sign in as ada@acme.test at the local AuthKit's hosted login page.
    [ada_in] = _steps(observed, "signed in", "ada")
    assert ada_in["loginUrl"] == "/user_management/authorize"
    assert (ada_in["userId"], ada_in["organizationId"], ada_in["email"]) == (
        "user_ada",
        "org_acme",
        "ada@acme.test",
    )
    assert ada_in["stats"]["authorize_requests"] == 1

    # "who am I": the agent calls the Atoms MCP's whoami with ada's token; her subject and
    # organization come back from it.
    first, after_expiry = _asked(observed, "ada", "who am I")
    assert first["error"] is None, first
    assert "user_ada" in first["answer"], first
    assert "org_acme" in first["answer"], first
    # The chat view shows the tool call and its result, as the Atoms MCP returned it.
    [whoami] = first["toolCalls"]
    assert whoami["name"] == "whoami", whoami
    assert '"subject": "user_ada"' in whoami["result"], whoami
    assert '"org_id": "org_acme"' in whoami["result"], whoami

    # A project created through the chat is listed by the next question.
    [created] = _asked(observed, "ada", "create a project called Apollo")
    [listed] = _asked(observed, "ada", "list my projects")
    assert created["error"] is None, created
    assert "Apollo" in created["answer"], created
    assert listed["error"] is None, listed
    assert "Apollo" in listed["answer"], listed

    # After the access token expired, the next chat still succeeds: the session was refreshed
    # with the refresh token, with no prompt.
    assert after_expiry["error"] is None, after_expiry
    assert "user_ada" in after_expiry["answer"], after_expiry
    assert after_expiry["stats"]["refresh_token_grants"] > first["stats"]["refresh_token_grants"]

    # No authorization hop during chat: still the one login page of the sign-in.
    for step in _steps(observed, "asked", "ada"):
        assert step["stats"]["authorize_requests"] == 1, step

    # After sign-out the chat route answers 401, as JSON with a reason.
    [ada_out] = _steps(observed, "signed out", "ada")
    assert ada_out["chat"]["status"] == 401
    assert json.loads(ada_out["chat"]["body"])["error"]["code"] == "NOT_SIGNED_IN"

    # hedy@globex.test, of another organization, does not see Acme's project.
    [hedy_in] = _steps(observed, "signed in", "hedy")
    assert (hedy_in["userId"], hedy_in["organizationId"]) == ("user_hedy", "org_globex")
    [hedy_list] = _asked(observed, "hedy", "list my projects")
    assert hedy_list["error"] is None, hedy_list
    assert "Apollo" not in hedy_list["answer"], hedy_list
    assert hedy_list["stats"]["authorize_requests"] == 2  # one login page per sign-in

    # The access token never reached the page: not in its HTML, text, storage, script-visible
    # cookies, console, nor any answer of the web app.
    assert observed["tokenSightings"] == []
    assert sorted(path.name for path in SHOTS_DIR.glob("*.png")) == sorted(
        Path(shot).name for item in observed["steps"] for shot in item["screenshots"]
    )


async def _check_a_chat_is_one_trace_from_the_web_route_to_the_mcp_tool(traces: OtlpTraceReceiver) -> None:
    """A chat's trace: the web app's route span, the agent's span of the chat under it, the MCP's tool."""

    def web_chat_traces(received: Sequence[ReceivedSpan]) -> list[list[ReceivedSpan]]:
        whole = []
        for trace_id in {span.trace_id for span in received if span.service == "atoms-web"}:
            spans = [span for span in received if span.trace_id == trace_id]
            services = {span.span_id: span.service for span in spans}
            chat_under_web = any(
                span.service == "atoms-agent"
                and span.name == "POST /v1/chat/completions"
                and services.get(span.parent_span_id) == "atoms-web"
                for span in spans
            )
            tool = any(span.service == "atoms-mcp" and span.name == "tools/call whoami" for span in spans)
            if chat_under_web and tool and every_hop_arrived(spans, root_service="atoms-web"):
                whole.append(spans)
        return whole

    received = await traces.wait_for_spans(lambda spans: bool(web_chat_traces(spans)), timeout_s=30)
    spans = web_chat_traces(received)[0]
    print("\n".join(render_trace_tree(spans)))  # shown when the test fails
    assert [span for span in spans if span.service == "atoms-web" and span.kind == "SERVER"]
