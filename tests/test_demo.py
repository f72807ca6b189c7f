"""`atoms demo` (what `make demo` runs) walks the whole sign-in-to-tool path with real processes, exits 0.

Its user signs in through the local AuthKit's login page, driven over HTTP as a browser would:
no token is minted. Its chat step runs on the dev model, which `atoms demo` starts for the agent.
"""

from __future__ import annotations

import asyncio
import sys


async def test_demo_walks_every_step_and_exits_cleanly() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_cli",
        "demo",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    text = output.decode()
    assert process.returncode == 0, text
    for expected in (
        "browser GET /user_management/authorize -> 200 login page",
        "browser POST /sign-in email=ada@acme.test -> 303 to http://127.0.0.1:3000/callback?code=…&state=…",
        "front end POST /user_management/authenticate (code, API key, PKCE verifier) -> 200: user user_ada",
        "forwards user token: true",
        "forwards user token: false",
        "whoami, with no OAuth prompt",
        "list_projects through the agent",
        "dev model is up",
        'the user asks the agent "who am I?" in a chat',
        "model -> agent: tool call atoms.whoami {}",
        "answer: You are user user_ada in organization org_acme",
        "[atoms-dev-model: a local development stand-in, not a real model]",
        "spans from atoms-agent, atoms-mcp (OTLP, W3C traceparent)",
        "agent  /atoms.agent.v1.AgentService/Chat",
        "├─ agent  tools/list",
        "└─ mcp  POST /api/mcp",
        "mcp  tools/call whoami",
        "refused: UNAUTHENTICATED INVALID_SIGNATURE",
        "HTTP 401, WWW-Authenticate: Bearer resource_metadata=",
        "code_challenge_methods_supported=['S256']",
        "browser GET /user_management/sessions/logout -> 302",
        "front end refresh after sign-out -> 400 invalid_grant",
        "stopped agent cleanly",
        "stopped dev-model cleanly",
        "stopped atoms-mcp cleanly",
        "stopped auth cleanly",
        "stopped authkit-emulator cleanly",
        "demo finished",
    ):
        assert expected in text, f"missing {expected!r} in:\n{text}"
