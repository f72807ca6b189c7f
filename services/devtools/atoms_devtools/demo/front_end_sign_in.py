"""The demo's sign-in: the front end and a browser against the local AuthKit, printed hop by hop.

The front end plays what `@workos-inc/authkit-nextjs` does with `@workos-inc/node`: it builds
the WorkOS authorize URL (PKCE S256, a `state`), the browser signs the dev user in at the
hosted login page, and the front end exchanges the code at `/user_management/authenticate`
with its API key and the PKCE verifier. Sign-out ends the session so its refresh token stops
working.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from atoms_devtools.demo.login_browser import LoginBrowser

FRONT_END_CALLBACK = "http://127.0.0.1:3000/callback"
FRONT_END_HOME = "http://127.0.0.1:3000/"


class SignInStepError(RuntimeError):
    """A hop of the sign-in did not answer as AuthKit would."""


@dataclass(frozen=True)
class FrontEndApp:
    """The WorkOS application the front end is configured as (WORKOS_CLIENT_ID, WORKOS_API_KEY)."""

    issuer: str
    client_id: str
    api_key: str


@dataclass(frozen=True)
class SignedInUser:
    """What the front end holds after the sign-in (authkit-nextjs keeps it in a sealed cookie)."""

    user_id: str
    organization_id: str | None
    access_token: str
    refresh_token: str
    session_id: str


async def sign_in(
    app: FrontEndApp, http: httpx.AsyncClient, *, email: str, say: Callable[[str], None]
) -> SignedInUser:
    """Sign `email` in through the hosted login page and exchange the code; report every hop.

    Raises:
        SignInStepError: a hop answered something AuthKit would not.
    """
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(16)
    query = {
        "client_id": app.client_id,
        "redirect_uri": FRONT_END_CALLBACK,
        "response_type": "code",
        "provider": "authkit",
        "state": state,
        "code_challenge": _s256(verifier),
        "code_challenge_method": "S256",
    }
    authorize_url = f"{app.issuer}/user_management/authorize?{urlencode(query)}"
    say("front end redirects the browser to the hosted login (PKCE S256, state)")
    redirect = await LoginBrowser(http, on_hop=say).sign_in(authorize_url, email=email)
    if redirect.code is None or redirect.state != state:
        raise SignInStepError(f"the login page did not return a code with the same state: {redirect.error}")
    response = await http.post(
        f"{app.issuer}/user_management/authenticate",
        json={
            "grant_type": "authorization_code",
            "client_id": app.client_id,
            "client_secret": app.api_key,
            "code": redirect.code,
            "code_verifier": verifier,
        },
    )
    body = _ok(response, "authenticate with code")
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(body["access_token"])
    say(
        f"front end POST /user_management/authenticate (code, API key, PKCE verifier) -> 200: "
        f"user {body['user']['id']} ({body['user']['email']}), organization {body.get('organization_id')}, "
        f"{header['alg']} access token kid {header['kid']} for {claims['exp'] - claims['iat']} s, "
        f"session {claims['sid']}"
    )
    return SignedInUser(
        user_id=body["user"]["id"],
        organization_id=body.get("organization_id"),
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        session_id=claims["sid"],
    )


async def sign_out(
    app: FrontEndApp, http: httpx.AsyncClient, user: SignedInUser, *, say: Callable[[str], None]
) -> None:
    """End the session the way `getLogoutUrl` does, then show its refresh token refused.

    Raises:
        SignInStepError: logout did not redirect back, or the refresh token still works.
    """
    logout = await http.get(
        f"{app.issuer}/user_management/sessions/logout",
        params={"session_id": user.session_id, "return_to": FRONT_END_HOME},
    )
    if logout.status_code != 302 or logout.headers.get("location") != FRONT_END_HOME:
        raise SignInStepError(f"logout answered HTTP {logout.status_code}")
    say(f"browser GET /user_management/sessions/logout -> 302 to {FRONT_END_HOME}")
    refresh = await http.post(
        f"{app.issuer}/user_management/authenticate",
        json={
            "grant_type": "refresh_token",
            "client_id": app.client_id,
            "client_secret": app.api_key,
            "refresh_token": user.refresh_token,
        },
    )
    if refresh.status_code != 400 or refresh.json().get("error") != "invalid_grant":
        raise SignInStepError(f"the refresh token still works after sign-out (HTTP {refresh.status_code})")
    refused = refresh.json()
    say(
        f"front end refresh after sign-out -> {refresh.status_code} {refused['error']}: "
        f"{refused['error_description']}"
    )


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _ok(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise SignInStepError(f"{what} answered HTTP {response.status_code}: {response.text[:200]}")
    body = response.json()
    if not isinstance(body, dict):
        raise SignInStepError(f"{what} answered a body that is not a JSON object")
    return body
