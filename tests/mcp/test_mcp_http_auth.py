"""The MCP service's HTTP authentication: 401, 403 and 503 with their headers, and the OAuth metadata.

Real servers: the AuthKit emulator, the auth service and the MCP service, on loopback.
"""

from __future__ import annotations

import time

import httpx
import pytest

from atoms_devtools.authkit_emulator import mint_token
from tests.mcp.conftest import AuthStack, RunningMcp, StartMcp
from tests.mcp.mcp_clients import challenge_params, fastmcp_client, post_initialize, sdk_client
from tests.support.token_factory import remember


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = "A" if signature[10] != "A" else "B"
    return remember(f"{header}.{payload}.{signature[:10]}{flipped}{signature[11:]}")


async def test_request_without_token_gets_401_pointing_at_resource_metadata(mcp_server: RunningMcp) -> None:
    response = await post_initialize(mcp_server.url)
    assert response.status_code == 401
    params = challenge_params(response.headers["www-authenticate"])
    assert params["resource_metadata"] == (
        f"{mcp_server.base_url}/.well-known/oauth-protected-resource/api/mcp"
    )
    assert "error" not in params  # RFC 6750 3.1: no error attribute when no credentials were sent


async def test_protected_resource_metadata_names_authkit_as_authorization_server(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{mcp_server.base_url}/.well-known/oauth-protected-resource/api/mcp")
    assert response.status_code == 200
    document = response.json()
    assert document["resource"] == mcp_server.url
    assert [server.rstrip("/") for server in document["authorization_servers"]] == [auth_stack.emulator_url]
    assert document["bearer_methods_supported"] == ["header"]


async def test_tampered_token_gets_401_invalid_token(mcp_server: RunningMcp, auth_stack: AuthStack) -> None:
    response = await post_initialize(mcp_server.url, token=_tampered(auth_stack.token()))
    assert response.status_code == 401
    params = challenge_params(response.headers["www-authenticate"])
    assert params["error"] == "invalid_token"
    assert params["resource_metadata"].endswith("/.well-known/oauth-protected-resource/api/mcp")


async def test_expired_token_gets_401_invalid_token(mcp_server: RunningMcp, auth_stack: AuthStack) -> None:
    an_hour_ago = int(time.time()) - 3600  # far beyond the auth service's 30 s leeway
    expired = remember(
        mint_token(
            auth_stack.keys,
            issuer=auth_stack.emulator_url,
            subject="user_alice",
            org_id="org_01ALPHA",
            extra_claims={"iat": an_hour_ago, "exp": an_hour_ago + 300},
        )
    )
    response = await post_initialize(mcp_server.url, token=expired)
    assert response.status_code == 401
    assert challenge_params(response.headers["www-authenticate"])["error"] == "invalid_token"


async def test_token_of_an_untrusted_issuer_gets_401_invalid_token(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    stranger = remember(mint_token(auth_stack.keys, issuer="https://evil.example", subject="user_mallory"))
    response = await post_initialize(mcp_server.url, token=stranger)
    assert response.status_code == 401
    assert challenge_params(response.headers["www-authenticate"])["error"] == "invalid_token"


async def test_token_issued_for_another_resource_gets_401(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    elsewhere = remember(
        mint_token(
            auth_stack.keys,
            issuer=auth_stack.emulator_url,
            subject="user_alice",
            audience="https://other-mcp.example/api/mcp",
        )
    )
    response = await post_initialize(mcp_server.url, token=elsewhere)
    assert response.status_code == 401


async def test_token_issued_for_this_resource_is_accepted(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    mine = remember(
        mint_token(
            auth_stack.keys, issuer=auth_stack.emulator_url, subject="user_alice", audience=mcp_server.url
        )
    )
    response = await post_initialize(mcp_server.url, token=mine)
    assert response.status_code == 200


async def test_request_naming_a_foreign_host_is_refused_on_a_loopback_server(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            mcp_server.url,
            json={},
            headers={"host": "attacker.example", "authorization": f"Bearer {auth_stack.token()}"},
        )
    assert response.status_code == 421  # DNS rebinding guard: a browser page cannot reach it by name


async def test_valid_token_opens_a_session(mcp_server: RunningMcp, auth_stack: AuthStack) -> None:
    response = await post_initialize(mcp_server.url, token=auth_stack.token())
    assert response.status_code == 200
    assert response.json()["result"]["serverInfo"]["name"] == "Atoms MCP"


async def test_token_without_a_required_scope_gets_403_insufficient_scope(
    auth_stack: AuthStack, start_mcp: StartMcp
) -> None:
    server = await start_mcp(auth_stack, required_scopes=("atoms:mcp",))
    response = await post_initialize(server.url, token=auth_stack.token(scopes=("openid",)))
    assert response.status_code == 403
    assert challenge_params(response.headers["www-authenticate"])["error"] == "insufficient_scope"


async def test_token_with_the_required_scope_is_served(auth_stack: AuthStack, start_mcp: StartMcp) -> None:
    server = await start_mcp(auth_stack, required_scopes=("atoms:mcp",))
    async with fastmcp_client(server.url, auth_stack.token(scopes=("openid", "atoms:mcp"))) as client:
        result = await client.call_tool("whoami", {})
    assert result.structured_content["scopes"] == ["openid", "atoms:mcp"]


async def test_unreachable_auth_service_gets_503_with_retry_after(
    auth_stack: AuthStack, start_mcp: StartMcp, free_port: int
) -> None:
    server = await start_mcp(auth_stack, auth_addr=f"127.0.0.1:{free_port}", auth_timeout_s=0.5)
    response = await post_initialize(server.url, token=auth_stack.token())
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(server.settings.retry_after_s)
    assert "www-authenticate" not in response.headers  # a 401 would start an OAuth prompt
    assert response.json()["error"] == "temporarily_unavailable"


async def test_auth_service_without_signing_keys_gets_503_not_401(
    auth_stack: AuthStack, start_mcp: StartMcp, free_port: int, start_auth_server
) -> None:
    from atoms_auth.settings import load_auth_settings

    dead_issuer = f"http://127.0.0.1:{free_port}"
    settings = load_auth_settings({"WORKOS_CLIENT_ID": "client_x", "WORKOS_API_BASE_URL": f"{dead_issuer}/"})
    keyless_auth = await start_auth_server(settings, metrics_port=None)
    server = await start_mcp(auth_stack, auth_addr=f"127.0.0.1:{keyless_auth.port}")
    token = remember(mint_token(auth_stack.keys, issuer=dead_issuer, subject="user_alice"))
    response = await post_initialize(server.url, token=token)
    assert response.status_code == 503  # the auth service answered UNAVAILABLE / JWKS_UNAVAILABLE
    assert int(response.headers["retry-after"]) > 0


async def test_auth_service_going_down_mid_session_gets_503_for_an_uncached_token(
    auth_stack: AuthStack, mcp_server: RunningMcp
) -> None:
    statuses: list[int] = []
    async with fastmcp_client(mcp_server.url, auth_stack.token(), statuses=statuses) as client:
        assert (await client.call_tool("whoami", {})).structured_content["subject"] == "user_alice"
        await auth_stack.auth.stop()
        # The warm session's token is still in the short local cache: no logout during an outage.
        assert (await client.call_tool("whoami", {})).structured_content["subject"] == "user_alice"
    response = await post_initialize(mcp_server.url, token=auth_stack.token(subject="user_bob"))
    assert response.status_code == 503
    assert 401 not in statuses


async def test_official_sdk_client_gets_no_session_without_a_valid_token(
    mcp_server: RunningMcp, auth_stack: AuthStack
) -> None:
    statuses: list[int] = []
    with pytest.raises(ExceptionGroup):  # the SDK reports the refused initialize from its task group
        async with sdk_client(mcp_server.url, _tampered(auth_stack.token()), statuses=statuses) as client:
            await client.list_tools()
    assert statuses
    assert set(statuses) == {401}


async def test_health_endpoint_answers_without_a_token(mcp_server: RunningMcp) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{mcp_server.base_url}/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
