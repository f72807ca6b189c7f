"""The official Python `mcp` SDK, with no token, completes the OAuth challenge of `atoms mcp serve`.

401 -> protected resource metadata -> authorization server metadata -> dynamic registration ->
authorize (the test submits the login form as a dev user would) -> token (PKCE S256, the
`resource` becomes `aud`) -> `whoami` returns that user.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import httpx2
import jwt
import mcp
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from pydantic import AnyUrl

from atoms_devtools.demo.login_browser import LoginBrowser
from tests.signin.conftest import SignInWorld
from tests.support.token_factory import remember

REDIRECT_URI = "http://127.0.0.1:47126/oauth/callback"


class MemoryTokenStorage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        remember(tokens.access_token)
        if tokens.refresh_token:
            remember(tokens.refresh_token)
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class PersonAtTheLoginPage:
    """The redirect and callback handlers of the SDK: a browser signing `email` in."""

    def __init__(self, browser_http: httpx.AsyncClient, email: str) -> None:
        self.email = email
        self.authorization_url: str | None = None
        self._browser = LoginBrowser(browser_http)

    async def open(self, authorization_url: str) -> None:
        self.authorization_url = authorization_url

    async def come_back(self) -> AuthorizationCodeResult:
        assert self.authorization_url is not None
        redirect = await self._browser.sign_in(self.authorization_url, email=self.email)
        assert redirect.location.startswith(f"{REDIRECT_URI}?")
        assert redirect.code is not None
        return AuthorizationCodeResult(code=redirect.code, state=redirect.state)


class HopRecorder:
    """A response hook that records method, path and status of every exchange the SDK makes."""

    def __init__(self) -> None:
        self.hops: list[str] = []

    async def __call__(self, response: httpx2.Response) -> None:
        path = urlsplit(str(response.request.url)).path
        self.hops.append(f"{response.request.method} {path} {response.status_code}")


async def test_python_sdk_signs_in_through_the_oauth_challenge_and_whoami_is_that_user(
    world: SignInWorld,
) -> None:
    storage = MemoryTokenStorage()
    person = PersonAtTheLoginPage(world.authkit.http, "hedy@globex.test")
    provider = OAuthClientProvider(
        server_url=world.mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="atoms tests (Python SDK)",
            redirect_uris=[AnyUrl(REDIRECT_URI)],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        storage=storage,
        redirect_handler=person.open,
        callback_handler=person.come_back,
    )
    recorder = HopRecorder()

    async with (
        httpx2.AsyncClient(auth=provider, timeout=30.0, event_hooks={"response": [recorder]}) as http,
        mcp.Client(streamable_http_client(world.mcp_url, http_client=http)) as client,
    ):
        result = await client.call_tool("whoami", {})

    assert storage.tokens is not None
    assert storage.client is not None
    me = result.structured_content
    assert (me["kind"], me["subject"], me["org_id"], me["role"]) == (
        "user",
        "user_hedy",
        "org_globex",
        "admin",
    )
    assert me["client_id"] == storage.client.client_id
    claims = jwt.decode(storage.tokens.access_token, options={"verify_signature": False})
    assert claims["aud"] == world.mcp_url
    assert _in_order(
        recorder.hops,
        "POST /api/mcp 401",
        "GET /.well-known/oauth-protected-resource/api/mcp 200",
        "GET /.well-known/oauth-authorization-server 200",
        "POST /oauth2/register 201",
        "POST /oauth2/token 200",
        "POST /api/mcp 200",
    ), recorder.hops
    assert "S256" in (person.authorization_url or "")


def _in_order(hops: list[str], *expected: str) -> bool:
    remaining = iter(hops)
    return all(any(hop == wanted for hop in remaining) for wanted in expected)


async def test_protected_resource_metadata_names_the_issuer_exactly_as_the_authorization_server_does(
    world: SignInWorld,
) -> None:
    async with httpx.AsyncClient(timeout=10.0) as http:
        resource = (
            await http.get(world.mcp_url.replace("/api/mcp", "/.well-known/oauth-protected-resource/api/mcp"))
        ).json()
        server = (await http.get(f"{world.authkit.url}/.well-known/oauth-authorization-server")).json()

    assert resource["authorization_servers"] == [server["issuer"]]  # compared as plain strings (RFC 8414 3.3)
