"""A running local AuthKit for tests, with a clock the test moves and helpers that play each party.

`local_authkit()` runs the emulator in the test's event loop with a test WorkOS application
(client id, API key, a loopback redirect URI). `LocalAuthKit` builds authorize URLs as the SDKs
do, plays the person at the login page (`atoms_devtools.demo.login_browser`), and calls the token
endpoints. Every token and secret it sees is remembered, so the suite's log check fails a test
whose logs contain one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from atoms_devtools.authkit_emulator import (
    DevDirectory,
    EmulatorKeyStore,
    SignInOptions,
    application_client,
    running_emulator,
)
from atoms_devtools.demo.login_browser import ClientRedirect, LoginBrowser
from tests.support.token_factory import remember

APP_CLIENT_ID = "client_atoms_signin_tests"
APP_API_KEY = remember(f"sk_test_{secrets.token_urlsafe(24)}")
APP_REDIRECT_URI = "http://127.0.0.1:3000/callback"
# RFC 8252 7.3: any port matches a registered loopback redirect URI; the tests use another one.
CALLBACK = "http://127.0.0.1:47123/callback"
PUBLIC_CALLBACK = "http://127.0.0.1:47124/oauth/callback"


class MovableClock:
    """Epoch seconds that start at the real time and move only when told to."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass(frozen=True)
class SignedIn:
    """The redirect back from the login page and the PKCE verifier that goes with its code."""

    redirect: ClientRedirect
    verifier: str | None

    @property
    def code(self) -> str:
        # Not remembered for the suite's log check: the test's own HTTP client logs the redirect's
        # Location at DEBUG. The emulator's logs are checked for codes by a test of their own.
        assert self.redirect.code is not None, self.redirect
        return self.redirect.code


@dataclass
class LocalAuthKit:
    """A running emulator and the parties that talk to it."""

    url: str
    clock: MovableClock
    directory: DevDirectory
    http: httpx.AsyncClient

    def workos_authorize_url(self, **overrides: str | None) -> str:
        """What `workos.userManagement.getAuthorizationUrl({provider: 'authkit', ...})` builds."""
        query = {
            "client_id": APP_CLIENT_ID,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "provider": "authkit",
            "state": "state-from-the-app",
        } | overrides
        return f"{self.url}/user_management/authorize?{_query(query)}"

    def oauth_authorize_url(self, client_id: str, **overrides: str | None) -> str:
        """What an MCP client builds for `/oauth2/authorize` (add the PKCE challenge yourself)."""
        query = {
            "client_id": client_id,
            "redirect_uri": PUBLIC_CALLBACK,
            "response_type": "code",
            "state": "state-from-the-mcp-client",
            "code_challenge_method": "S256",
            "resource": "http://127.0.0.1:48000/api/mcp",
        } | overrides
        return f"{self.url}/oauth2/authorize?{_query(query)}"

    async def sign_in(
        self,
        email: str = "ada@acme.test",
        *,
        organization_id: str | None = None,
        pkce: bool = True,
        preselected_organization_id: str | None = None,
        **params: str,
    ) -> SignedIn:
        """Sign `email` in through the WorkOS authorize URL, as a browser would.

        `organization_id` is picked on the login page when it asks; `preselected_organization_id`
        is the authorize request's `organization_id`.
        """
        verifier, challenge = pkce_pair() if pkce else (None, None)
        if challenge is not None:
            params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
        if preselected_organization_id is not None:
            params["organization_id"] = preselected_organization_id
        url = self.workos_authorize_url(**params)
        redirect = await LoginBrowser(self.http).sign_in(url, email=email, organization_id=organization_id)
        return SignedIn(redirect, verifier)

    async def sign_in_public_client(
        self, client_id: str, *, resource: str, email: str = "ada@acme.test"
    ) -> SignedIn:
        """Sign `email` in for a registered MCP client (PKCE S256, `resource`)."""
        verifier, challenge = pkce_pair()
        url = self.oauth_authorize_url(client_id, code_challenge=challenge, resource=resource)
        return SignedIn(await LoginBrowser(self.http).sign_in(url, email=email), verifier)

    async def authenticate(self, **fields: str | None) -> httpx.Response:
        """POST /user_management/authenticate as `@workos-inc/node` does (JSON)."""
        body = {"client_id": APP_CLIENT_ID, "client_secret": APP_API_KEY} | fields
        response = await self.http.post(
            f"{self.url}/user_management/authenticate", json={k: v for k, v in body.items() if v is not None}
        )
        return _remember_tokens(response)

    async def exchange(self, signed_in: SignedIn, **fields: str | None) -> httpx.Response:
        """Exchange a WorkOS sign-in's code with the API key and its verifier."""
        return await self.authenticate(
            grant_type="authorization_code", code=signed_in.code, code_verifier=signed_in.verifier, **fields
        )

    async def refresh(self, refresh_token: str, **fields: str | None) -> httpx.Response:
        """Refresh at /user_management/authenticate with the API key."""
        return await self.authenticate(grant_type="refresh_token", refresh_token=refresh_token, **fields)

    async def token(self, **fields: str) -> httpx.Response:
        """POST /oauth2/token, form-encoded, as an MCP client does."""
        return _remember_tokens(await self.http.post(f"{self.url}/oauth2/token", data=fields))

    async def register(self, **metadata: Any) -> httpx.Response:
        """POST /oauth2/register with RFC 7591 metadata (a loopback redirect URI by default)."""
        body = {"client_name": "atoms tests", "redirect_uris": [PUBLIC_CALLBACK]} | metadata
        return await self.http.post(f"{self.url}/oauth2/register", json=body)

    async def register_client(self) -> str:
        """Register a public client and return its id."""
        response = await self.register()
        assert response.status_code == 201, response.text
        return str(response.json()["client_id"])


@contextlib.asynccontextmanager
async def local_authkit(
    tmp_path: Path, *, clock: MovableClock | None = None, store: EmulatorKeyStore | None = None
) -> AsyncIterator[LocalAuthKit]:
    """Run the emulator with the test application, users in `tmp_path/users.json`; yield its parties."""
    clock = clock or MovableClock()
    # The key signs from the clock's "now", so the clock, not the wall, decides when tokens are minted.
    keys = store or EmulatorKeyStore(path=tmp_path / "authkit" / "keys.json", clock=clock)
    directory = DevDirectory(path=tmp_path / "authkit" / "users.json", clock=clock)
    options = SignInOptions(
        directory=directory,
        application=application_client(
            client_id=APP_CLIENT_ID, api_key=APP_API_KEY, redirect_uris=(APP_REDIRECT_URI,)
        ),
        clock=clock,
    )
    async with (
        running_emulator(keys, sign_in=options) as url,
        httpx.AsyncClient(timeout=10.0) as http,
    ):
        yield LocalAuthKit(url=url, clock=clock, directory=directory, http=http)


def _query(params: dict[str, str | None]) -> str:
    return urlencode({name: value for name, value in params.items() if value is not None})


def _remember_tokens(response: httpx.Response) -> httpx.Response:
    if response.status_code == 200:
        body = response.json()
        for name in ("access_token", "refresh_token"):
            if isinstance(body.get(name), str):
                remember(body[name])
    return response
