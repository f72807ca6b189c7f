"""Everything the local AuthKit must refuse, each with the OAuth / WorkOS error a client expects.

Codes (reused, expired, wrong or missing verifier, another client's), redirect URIs (never an
open redirect), clients (unknown, wrong secret), refresh tokens (after logout, after rotation),
registrations (non-https off loopback), and oversized or malformed requests. And nothing the
emulator logs lets anyone replay a code or a token.
"""

from __future__ import annotations

import logging

import httpx
import jwt
import pytest

from atoms_devtools.authkit_emulator import CODE_TTL_S
from atoms_devtools.demo.login_browser import parse_forms
from tests.support.local_authkit import APP_API_KEY, APP_CLIENT_ID, PUBLIC_CALLBACK, LocalAuthKit, pkce_pair

RESOURCE = "http://127.0.0.1:48000/api/mcp"


def _error(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.status_code, response.json()["error"]


async def _tokens(authkit: LocalAuthKit, email: str = "ada@acme.test") -> dict[str, str]:
    response = await authkit.exchange(await authkit.sign_in(email))
    assert response.status_code == 200, response.text
    return response.json()


# --- authorization codes ---------------------------------------------------------------------


async def test_reused_code_is_refused_and_revokes_the_session_it_started(authkit: LocalAuthKit) -> None:
    signed_in = await authkit.sign_in()
    first = (await authkit.exchange(signed_in)).json()

    again = await authkit.exchange(signed_in)

    assert _error(again) == (400, "invalid_grant")
    assert _error(await authkit.refresh(first["refresh_token"])) == (400, "invalid_grant")


async def test_code_older_than_sixty_seconds_is_refused(authkit: LocalAuthKit) -> None:
    signed_in = await authkit.sign_in()
    authkit.clock.advance(CODE_TTL_S + 1)

    assert _error(await authkit.exchange(signed_in)) == (400, "invalid_grant")


async def test_code_just_under_sixty_seconds_old_is_accepted(authkit: LocalAuthKit) -> None:
    signed_in = await authkit.sign_in()
    authkit.clock.advance(CODE_TTL_S - 1)

    assert (await authkit.exchange(signed_in)).status_code == 200


@pytest.mark.parametrize(
    "verifier",
    ["wrong-verifier-" + "x" * 40, None],
    ids=["wrong code_verifier", "no code_verifier although a challenge was sent"],
)
async def test_code_exchange_without_the_right_verifier_is_refused(
    authkit: LocalAuthKit, verifier: str | None
) -> None:
    signed_in = await authkit.sign_in()

    response = await authkit.authenticate(
        grant_type="authorization_code", code=signed_in.code, code_verifier=verifier
    )

    assert _error(response) == (400, "invalid_grant")


async def test_verifier_for_a_request_that_sent_no_challenge_is_refused(authkit: LocalAuthKit) -> None:
    signed_in = await authkit.sign_in(pkce=False)

    response = await authkit.authenticate(
        grant_type="authorization_code", code=signed_in.code, code_verifier="a" * 43
    )

    assert _error(response) == (400, "invalid_grant")


async def test_unknown_code_is_refused(authkit: LocalAuthKit) -> None:
    response = await authkit.authenticate(grant_type="authorization_code", code="not-a-code")

    assert _error(response) == (400, "invalid_grant")


async def test_code_of_another_client_is_refused(authkit: LocalAuthKit) -> None:
    mine, theirs = await authkit.register_client(), await authkit.register_client()
    signed_in = await authkit.sign_in_public_client(mine, resource=RESOURCE)

    response = await authkit.token(
        grant_type="authorization_code",
        code=signed_in.code,
        code_verifier=signed_in.verifier or "",
        redirect_uri=PUBLIC_CALLBACK,
        client_id=theirs,
    )

    assert _error(response) == (400, "invalid_grant")


# --- redirect URIs: never an open redirect ---------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "http://localhost:47123/callback",
        "http://127.0.0.1:47123/callback/../../evil",
        "http://127.0.0.1:47123/callback?next=https://evil.example",
        "http://127.0.0.1:47123/callback#fragment",
        "http://user@127.0.0.1:47123/callback",
    ],
    ids=["foreign host", "other loopback name", "other path", "extra query", "fragment", "user info"],
)
async def test_authorize_with_an_unregistered_redirect_uri_shows_an_error_and_redirects_nowhere(
    authkit: LocalAuthKit, redirect_uri: str
) -> None:
    for url in (
        authkit.workos_authorize_url(redirect_uri=redirect_uri),
        authkit.oauth_authorize_url(
            await authkit.register_client(), redirect_uri=redirect_uri, code_challenge="A" * 43
        ),
    ):
        response = await authkit.http.get(url)

        assert response.status_code == 400
        assert "location" not in response.headers
        assert "redirect_uri" in response.text


async def test_authorize_for_an_unknown_client_shows_an_error_and_redirects_nowhere(
    authkit: LocalAuthKit,
) -> None:
    for url in (
        authkit.workos_authorize_url(client_id="client_unknown"),
        authkit.oauth_authorize_url("client_unknown", code_challenge="A" * 43),
    ):
        response = await authkit.http.get(url)

        assert (response.status_code, response.headers.get("location")) == (400, None)
        assert "invalid_client" in response.text


async def test_registered_mcp_client_cannot_use_the_workos_authorize_form(authkit: LocalAuthKit) -> None:
    client_id = await authkit.register_client()

    response = await authkit.http.get(
        authkit.workos_authorize_url(client_id=client_id, redirect_uri=PUBLIC_CALLBACK)
    )

    assert (response.status_code, response.headers.get("location")) == (400, None)


async def test_token_request_with_another_redirect_uri_than_at_authorize_is_refused(
    authkit: LocalAuthKit,
) -> None:
    client_id = (
        await authkit.register(redirect_uris=[PUBLIC_CALLBACK, "http://127.0.0.1:47124/other"])
    ).json()["client_id"]
    signed_in = await authkit.sign_in_public_client(client_id, resource=RESOURCE)

    for redirect_uri in ("http://127.0.0.1:47124/other", None):
        fields = {"redirect_uri": redirect_uri} if redirect_uri else {}
        response = await authkit.token(
            grant_type="authorization_code",
            code=signed_in.code,
            code_verifier=signed_in.verifier or "",
            client_id=client_id,
            **fields,
        )
        assert _error(response) == (400, "invalid_grant")


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/",
        "http://127.0.0.1.evil.example:47123/",
        "javascript:alert(1)",
        "//evil.example/",
    ],
)
async def test_logout_never_redirects_off_the_applications_origin(
    authkit: LocalAuthKit, return_to: str
) -> None:
    response = await authkit.http.get(
        f"{authkit.url}/user_management/sessions/logout",
        params={"session_id": "session_x", "return_to": return_to},
    )

    assert (response.status_code, response.headers.get("location")) == (400, None)


# --- clients and secrets ---------------------------------------------------------------------


async def test_unknown_client_is_refused_with_invalid_client(authkit: LocalAuthKit) -> None:
    workos = await authkit.authenticate(client_id="client_unknown", grant_type="authorization_code", code="x")
    oauth = await authkit.token(client_id="client_unknown", grant_type="authorization_code", code="x")

    assert _error(workos) == (401, "invalid_client")
    assert _error(oauth) == (401, "invalid_client")


async def test_wrong_client_secret_is_refused_with_invalid_client(authkit: LocalAuthKit) -> None:
    signed_in = await authkit.sign_in()
    tokens = await _tokens(authkit)

    exchange = await authkit.exchange(signed_in, client_secret=APP_API_KEY + "x")
    refresh = await authkit.refresh(tokens["refresh_token"], client_secret="sk_test_wrong")

    assert _error(exchange) == (401, "invalid_client")
    assert _error(refresh) == (401, "invalid_client")
    assert exchange.headers["www-authenticate"].startswith("Basic")


async def test_wrong_client_secret_in_basic_authentication_is_refused(authkit: LocalAuthKit) -> None:
    signed_in = await authkit.sign_in()

    response = await authkit.http.post(
        f"{authkit.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": signed_in.code,
            "code_verifier": signed_in.verifier,
        },
        auth=(APP_CLIENT_ID, "nope"),
    )

    assert _error(response) == (401, "invalid_client")


async def test_confidential_exchange_without_pkce_needs_the_client_secret(authkit: LocalAuthKit) -> None:
    signed_in = await authkit.sign_in(pkce=False)

    assert _error(await authkit.exchange(signed_in, client_secret=None)) == (401, "invalid_client")


async def test_refresh_of_a_confidential_session_needs_the_client_secret(authkit: LocalAuthKit) -> None:
    tokens = await _tokens(authkit)

    assert _error(await authkit.refresh(tokens["refresh_token"], client_secret=None)) == (
        401,
        "invalid_client",
    )


async def test_public_client_that_sends_a_secret_is_refused(authkit: LocalAuthKit) -> None:
    client_id = await authkit.register_client()

    response = await authkit.token(
        grant_type="authorization_code", code="x", client_id=client_id, client_secret="s"
    )

    assert _error(response) == (401, "invalid_client")


# --- refresh tokens --------------------------------------------------------------------------


async def test_refresh_token_after_logout_is_refused(authkit: LocalAuthKit) -> None:
    tokens = await _tokens(authkit)
    session_id = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]

    await authkit.http.get(
        f"{authkit.url}/user_management/sessions/logout", params={"session_id": session_id}
    )

    assert _error(await authkit.refresh(tokens["refresh_token"])) == (400, "invalid_grant")


async def test_refresh_token_already_rotated_is_refused(authkit: LocalAuthKit) -> None:
    tokens = await _tokens(authkit)
    rotated = await authkit.refresh(tokens["refresh_token"])

    replayed = await authkit.refresh(tokens["refresh_token"])

    assert rotated.status_code == 200
    assert _error(replayed) == (400, "invalid_grant")
    assert (await authkit.refresh(rotated.json()["refresh_token"])).status_code == 200


async def test_refresh_into_an_organization_the_user_is_not_in_is_refused(authkit: LocalAuthKit) -> None:
    tokens = await _tokens(authkit, "ada@acme.test")

    response = await authkit.refresh(tokens["refresh_token"], organization_id="org_globex")

    assert _error(response) == (400, "invalid_grant")


async def test_refresh_of_another_clients_session_is_refused(authkit: LocalAuthKit) -> None:
    client_id = await authkit.register_client()
    tokens = await _tokens(authkit)

    response = await authkit.token(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"], client_id=client_id
    )

    assert _error(response) == (400, "invalid_grant")


# --- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["http://app.example/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://10.0.0.5/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["myapp://callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example/cb#fragment"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["/relative/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": "https://app.example/cb"}, "invalid_redirect_uri"),
        ({"redirect_uris": [f"https://app.example/{i}" for i in range(11)]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example/" + "a" * 3000]}, "invalid_redirect_uri"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"client_name": "x" * 500}, "invalid_client_metadata"),
    ],
    ids=[
        "http off loopback",
        "http on a private address",
        "custom scheme",
        "javascript",
        "fragment",
        "relative",
        "none",
        "not a list",
        "too many",
        "too long",
        "client_credentials",
        "implicit",
        "long name",
    ],
)
async def test_registration_is_refused_with_the_rfc7591_error(
    authkit: LocalAuthKit, metadata: dict[str, object], error: str
) -> None:
    assert _error(await authkit.register(**metadata)) == (400, error)


async def test_registration_accepts_https_anywhere_and_http_on_loopback(authkit: LocalAuthKit) -> None:
    uris = [
        "https://app.example/cb",
        "http://localhost:8765/cb",
        "http://[::1]:8765/cb",
        "http://127.0.0.1/cb",
    ]

    response = await authkit.register(redirect_uris=uris, token_endpoint_auth_method="client_secret_basic")

    body = response.json()
    assert response.status_code == 201
    assert body["redirect_uris"] == uris
    assert body["token_endpoint_auth_method"] == "none"  # public client: the request's method is replaced
    assert "client_secret" not in body


# --- authorize parameters (redirected back with the error and the state) ---------------------


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({}, "invalid_request"),
        ({"code_challenge": "A" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"code_challenge": "A" * 43, "resource": None}, "invalid_target"),
        ({"code_challenge": "A" * 43, "resource": "not a url"}, "invalid_target"),
        ({"code_challenge": "A" * 43, "response_type": "token"}, "unsupported_response_type"),
    ],
    ids=["no PKCE", "plain PKCE", "malformed challenge", "no resource", "bad resource", "implicit flow"],
)
async def test_oauth_authorize_with_a_bad_parameter_redirects_back_with_the_error(
    authkit: LocalAuthKit, overrides: dict[str, str | None], error: str
) -> None:
    response = await authkit.http.get(
        authkit.oauth_authorize_url(await authkit.register_client(), **overrides)
    )

    location = httpx.URL(response.headers["location"])
    assert response.status_code == 303
    assert str(location).startswith(PUBLIC_CALLBACK)
    assert (location.params["error"], location.params["state"]) == (error, "state-from-the-mcp-client")
    assert "code" not in location.params


async def test_token_request_for_another_resource_is_refused_with_invalid_target(
    authkit: LocalAuthKit,
) -> None:
    client_id = await authkit.register_client()
    signed_in = await authkit.sign_in_public_client(client_id, resource=RESOURCE)

    response = await authkit.token(
        grant_type="authorization_code",
        code=signed_in.code,
        code_verifier=signed_in.verifier or "",
        redirect_uri=PUBLIC_CALLBACK,
        client_id=client_id,
        resource="https://other.example/api/mcp",
    )

    assert _error(response) == (400, "invalid_target")


# --- the login page --------------------------------------------------------------------------


async def test_unknown_email_at_the_login_page_is_refused_on_the_page(authkit: LocalAuthKit) -> None:
    page = await authkit.http.get(authkit.workos_authorize_url())
    form = parse_forms(page.text)[0][0]

    response = await authkit.http.post(
        f"{authkit.url}/sign-in", data={**form.values, "email": "mallory@evil.example", "action": "sign-in"}
    )

    assert (response.status_code, response.headers.get("location")) == (400, None)
    assert "No dev user has the email" in response.text


async def test_organization_the_user_is_not_in_is_refused_on_the_page(authkit: LocalAuthKit) -> None:
    page = await authkit.http.get(authkit.workos_authorize_url(organization_id="org_globex"))
    form = parse_forms(page.text)[0][0]

    response = await authkit.http.post(
        f"{authkit.url}/sign-in", data={**form.values, "email": "ada@acme.test", "action": "sign-in"}
    )

    assert (response.status_code, response.headers.get("location")) == (400, None)


async def test_login_page_older_than_ten_minutes_or_already_used_is_refused(authkit: LocalAuthKit) -> None:
    page = await authkit.http.get(authkit.workos_authorize_url())
    values = {**parse_forms(page.text)[0][0].values, "email": "ada@acme.test", "action": "sign-in"}
    used = await authkit.http.post(f"{authkit.url}/sign-in", data=values)
    stale_page = await authkit.http.get(authkit.workos_authorize_url())
    stale = {**parse_forms(stale_page.text)[0][0].values, "email": "ada@acme.test", "action": "sign-in"}
    authkit.clock.advance(601)

    assert used.status_code == 303
    for data in (values, stale):
        response = await authkit.http.post(f"{authkit.url}/sign-in", data=data)
        assert (response.status_code, response.headers.get("location")) == (400, None)


# --- oversized and malformed requests --------------------------------------------------------


@pytest.mark.parametrize("path", ["/user_management/authenticate", "/oauth2/token", "/oauth2/register"])
async def test_oversized_body_is_refused_with_413(authkit: LocalAuthKit, path: str) -> None:
    response = await authkit.http.post(
        f"{authkit.url}{path}", content=b"a" * (17 * 1024), headers={"content-type": "application/json"}
    )

    assert _error(response) == (413, "invalid_request")


@pytest.mark.parametrize(
    ("path", "content", "content_type"),
    [
        ("/user_management/authenticate", b"{not json", "application/json"),
        ("/user_management/authenticate", b'{"grant_type": ["authorization_code"]}', "application/json"),
        ("/user_management/authenticate", b'{"code": "a", "code": "b"}', "application/json"),
        ("/user_management/authenticate", b"[" * 5000 + b"]" * 5000, "application/json"),
        ("/user_management/authenticate", b"\xff\xfe", "application/json"),
        (
            "/oauth2/token",
            b"grant_type=authorization_code&code=a&code=b",
            "application/x-www-form-urlencoded",
        ),
        ("/oauth2/token", b"code=%ff%fe", "application/x-www-form-urlencoded"),
        ("/oauth2/register", b"{not json", "application/json"),
        ("/oauth2/register", b"[" * 5000 + b"]" * 5000, "application/json"),
    ],
    ids=[
        "broken JSON",
        "a list where a string belongs",
        "a repeated JSON member",
        "deeply nested JSON",
        "not UTF-8",
        "a repeated form parameter",
        "form not UTF-8",
        "registration not JSON",
        "registration deeply nested",
    ],
)
async def test_malformed_request_is_refused_with_invalid_request(
    authkit: LocalAuthKit, path: str, content: bytes, content_type: str
) -> None:
    response = await authkit.http.post(
        f"{authkit.url}{path}", content=content, headers={"content-type": content_type}
    )

    assert _error(response) in {(400, "invalid_request"), (400, "invalid_client_metadata")}


@pytest.mark.parametrize("grant_type", ["password", "client_credentials", ""])
async def test_unsupported_grant_type_is_refused(authkit: LocalAuthKit, grant_type: str) -> None:
    response = await authkit.authenticate(grant_type=grant_type)

    assert _error(response) == (400, "unsupported_grant_type")


async def test_overlong_authorize_query_is_refused_on_a_page(authkit: LocalAuthKit) -> None:
    response = await authkit.http.get(authkit.workos_authorize_url(state="s" * 9000))

    assert (response.status_code, response.headers.get("location")) == (400, None)


# --- logs ------------------------------------------------------------------------------------


async def test_nothing_the_emulator_logs_replays_a_code_or_a_token(
    authkit: LocalAuthKit, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="atoms_devtools.authkit_emulator")
    signed_in = await authkit.sign_in()
    tokens = (await authkit.exchange(signed_in)).json()
    refreshed = (await authkit.refresh(tokens["refresh_token"])).json()
    await authkit.refresh(tokens["refresh_token"])  # rotated: refused
    await authkit.exchange(signed_in)  # reused: refused, logged as a warning, the session revoked
    client_id = await authkit.register_client()
    verifier, challenge = pkce_pair()
    await authkit.http.get(authkit.oauth_authorize_url(client_id, code_challenge=challenge))

    emulator_lines = [
        r.getMessage() for r in caplog.records if r.name.startswith("atoms_devtools.authkit_emulator")
    ]
    secrets = [
        signed_in.code,
        signed_in.verifier,
        verifier,
        APP_API_KEY,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["refresh_token"],
    ]
    assert emulator_lines  # the flow was logged ...
    assert not [
        line for line in emulator_lines for secret in secrets if secret and secret in line
    ]  # ... safely
