"""The official TypeScript MCP SDK (`@modelcontextprotocol/sdk`), with no token, completes the OAuth dance.

tests/js/mcp_oauth_whoami.mjs connects to `atoms mcp serve` with an OAuth client provider, is
challenged (401), discovers, registers, sends the person to the login page (played over
HTTP), exchanges the code with PKCE and `resource`, and calls `whoami`.
"""

from __future__ import annotations

import json

import pytest

from tests.signin.conftest import SignInWorld
from tests.signin.node_runner import requires_node_packages, run_node

pytestmark = requires_node_packages


async def test_typescript_sdk_signs_in_through_the_oauth_challenge_and_whoami_is_that_user(
    world: SignInWorld,
) -> None:
    code, stdout, stderr = await run_node(
        "mcp_oauth_whoami.mjs", world.mcp_url, env={"ATOMS_SIGNIN_EMAIL": "grace@acme.test"}
    )

    assert code == 0, stderr
    report = json.loads(stdout)
    me = report["whoami"]
    assert (me["kind"], me["subject"], me["client_id"]) == ("user", "user_grace", report["client_id"])
    assert report["token_audience"] == world.mcp_url
    hops = report["hops"]
    expected = [
        "POST /api/mcp 401",
        "GET /.well-known/oauth-protected-resource/api/mcp 200",
        "GET /.well-known/oauth-authorization-server 200",
        "POST /oauth2/register 201",
        "GET /oauth2/authorize 200",
        "POST /sign-in 303",
        "POST /oauth2/token 200",
        "POST /api/mcp 200",
    ]
    positions = [hops.index(hop) for hop in expected]
    assert positions == sorted(positions), hops


@pytest.mark.parametrize("email", ["nobody@acme.test"])
async def test_typescript_sdk_flow_stops_when_the_person_is_not_a_dev_user(
    world: SignInWorld, email: str
) -> None:
    code, stdout, stderr = await run_node(
        "mcp_oauth_whoami.mjs", world.mcp_url, env={"ATOMS_SIGNIN_EMAIL": email}
    )

    assert code == 1
    assert stdout == ""
    assert "the login form answered 400" in stderr
