"""The official TypeScript SDK (`@modelcontextprotocol/sdk`) connects with a bearer token and calls whoami.

`make install` runs `npm ci --prefix tests/js`; without node_modules the test is skipped
and says so.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
from pathlib import Path

import pytest

from tests.mcp.conftest import ORG_A, AuthStack, RunningMcp
from tests.support.token_factory import remember

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SCRIPT = JS_DIR / "mcp_whoami.mjs"
NODE = shutil.which("node")
SDK = JS_DIR / "node_modules" / "@modelcontextprotocol" / "sdk"

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed (Node 20 or later runs tests/js)"),
    pytest.mark.skipif(
        not SDK.is_dir(),
        reason="tests/js/node_modules is missing: run `npm ci --prefix tests/js` (make install)",
    ),
]


async def _whoami_with_node(url: str, token: str) -> tuple[int, str, str]:
    """Run the script without blocking the event loop that serves the MCP server."""
    environment = {**os.environ, "ATOMS_MCP_TOKEN": token}
    process = await asyncio.create_subprocess_exec(
        str(NODE),
        str(SCRIPT),
        url,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, stdout.decode(), stderr.decode()


async def test_typescript_sdk_client_calls_whoami_with_a_bearer_token(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    code, stdout, stderr = await _whoami_with_node(mcp_server.url, auth_stack.token(subject="user_node"))
    assert code == 0, stderr
    me = json.loads(stdout)
    assert (me["kind"], me["subject"], me["org_id"]) == ("user", "user_node", ORG_A)


async def test_typescript_sdk_client_is_refused_with_a_bad_token(mcp_server: RunningMcp) -> None:
    code, stdout, stderr = await _whoami_with_node(
        mcp_server.url, remember(f"not-a-token-{secrets.token_hex(8)}")
    )
    assert code == 1
    assert stdout == ""
    assert "whoami failed" in stderr
