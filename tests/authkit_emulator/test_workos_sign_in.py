"""The WorkOS User Management surface of the local AuthKit, over real HTTP: login page, code, refresh, logout.

The person at the login page is played by `LoginBrowser` (plain HTTP, as a browser without
JavaScript); the application's calls are the JSON bodies `@workos-inc/node` sends.
"""

from __future__ import annotations

import jwt
import pytest

from atoms_devtools.demo.login_browser import parse_forms
from tests.support.local_authkit import APP_CLIENT_ID, CALLBACK, LocalAuthKit

ALL_WRITES = ["projects:write", "documents:write", "requirements:write"]


async def test_login_page_lists_the_default_dev_users_in_plain_html(authkit: LocalAuthKit) -> None:
    page = await authkit.http.get(authkit.workos_authorize_url())

    forms, text = parse_forms(page.text)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' covers it
    for email in ("ada@acme.test", "grace@acme.test", "hedy@globex.test", "margaret@acme.test"):
        assert email in text
    assert any("email" in form.values and form.method == "post" for form in forms)


async def test_login_page_prefills_the_login_hint(authkit: LocalAuthKit) -> None:
    page = await authkit.http.get(authkit.workos_authorize_url(login_hint="grace@acme.test"))

    forms, _ = parse_forms(page.text)
    assert forms[0].values["email"] == "grace@acme.test"


async def test_submitting_an_email_redirects_to_the_client_with_a_code_and_the_unchanged_state(
    authkit: LocalAuthKit,
) -> None:
    signed_in = await authkit.sign_in("ada@acme.test", state="opaque/state+with=odd&chars")

    assert signed_in.redirect.location.startswith(f"{CALLBACK}?")
    assert signed_in.redirect.state == "opaque/state+with=odd&chars"
    assert signed_in.code


async def test_code_exchange_answers_the_shape_the_workos_sdks_parse(authkit: LocalAuthKit) -> None:
    response = await authkit.exchange(await authkit.sign_in("ada@acme.test"))

    body = response.json()
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert body["user"]["object"] == "user"
    assert (body["user"]["id"], body["user"]["email"], body["user"]["email_verified"]) == (
        "user_ada",
        "ada@acme.test",
        True,
    )
    for field in ("first_name", "last_name", "profile_picture_url", "created_at", "updated_at"):
        assert field in body["user"]
    assert body["organization_id"] == "org_acme"
    assert body["authentication_method"] == "MagicAuth"
    assert body["access_token"]
    assert body["refresh_token"]


async def test_access_token_is_shaped_like_authkits_and_lives_five_minutes(authkit: LocalAuthKit) -> None:
    token = (await authkit.exchange(await authkit.sign_in("ada@acme.test"))).json()["access_token"]
    keys = jwt.PyJWKSet.from_dict((await authkit.http.get(f"{authkit.url}/sso/jwks/{APP_CLIENT_ID}")).json())

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, keys[header["kid"]].key, algorithms=["RS256"], issuer=authkit.url)
    assert header["alg"] == "RS256"
    assert (claims["sub"], claims["org_id"], claims["role"], claims["roles"]) == (
        "user_ada",
        "org_acme",
        "admin",
        ["admin"],
    )
    assert claims["permissions"] == ALL_WRITES
    assert claims["sid"].startswith("session_")
    assert claims["jti"]
    assert claims["exp"] - claims["iat"] == 300
    assert "aud" not in claims  # AuthKit session tokens carry no audience


async def test_public_client_exchanges_its_code_with_the_verifier_alone(authkit: LocalAuthKit) -> None:
    signed_in = await authkit.sign_in("grace@acme.test")

    response = await authkit.exchange(signed_in, client_secret=None)

    assert response.status_code == 200
    assert response.json()["user"]["id"] == "user_grace"


async def test_confidential_client_without_pkce_exchanges_its_code_with_the_api_key(
    authkit: LocalAuthKit,
) -> None:
    signed_in = await authkit.sign_in("grace@acme.test", pkce=False)

    response = await authkit.exchange(signed_in)

    assert response.status_code == 200


async def test_user_of_two_organizations_picks_one_on_the_login_page(authkit: LocalAuthKit) -> None:
    signed_in = await authkit.sign_in("margaret@acme.test", organization_id="org_globex")

    body = (await authkit.exchange(signed_in)).json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert body["organization_id"] == claims["org_id"] == "org_globex"
    assert (claims["role"], claims["permissions"]) == ("admin", ALL_WRITES)


async def test_organization_id_of_the_authorize_request_preselects_the_organization(
    authkit: LocalAuthKit,
) -> None:
    signed_in = await authkit.sign_in("margaret@acme.test", preselected_organization_id="org_acme")

    body = (await authkit.exchange(signed_in)).json()
    assert body["organization_id"] == "org_acme"


async def test_refresh_returns_new_tokens_for_the_same_session(authkit: LocalAuthKit) -> None:
    first = (await authkit.exchange(await authkit.sign_in())).json()
    authkit.clock.advance(120)

    response = await authkit.refresh(first["refresh_token"])

    second = response.json()
    old, new = (jwt.decode(t["access_token"], options={"verify_signature": False}) for t in (first, second))
    assert response.status_code == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert new["sid"] == old["sid"]
    assert new["iat"] == old["iat"] + 120
    assert second["user"]["id"] == "user_ada"


async def test_refresh_may_switch_to_another_organization_of_the_user(authkit: LocalAuthKit) -> None:
    first = (
        await authkit.exchange(await authkit.sign_in("margaret@acme.test", organization_id="org_acme"))
    ).json()

    second = (await authkit.refresh(first["refresh_token"], organization_id="org_globex")).json()

    assert second["organization_id"] == "org_globex"
    assert jwt.decode(second["access_token"], options={"verify_signature": False})["role"] == "admin"


async def test_logout_redirects_to_return_to_on_the_applications_origin(authkit: LocalAuthKit) -> None:
    body = (await authkit.exchange(await authkit.sign_in())).json()
    session_id = jwt.decode(body["access_token"], options={"verify_signature": False})["sid"]

    response = await authkit.http.get(
        f"{authkit.url}/user_management/sessions/logout",
        params={"session_id": session_id, "return_to": "http://127.0.0.1:47123/signed-out"},
    )

    assert (response.status_code, response.headers["location"]) == (302, "http://127.0.0.1:47123/signed-out")


async def test_logout_without_return_to_shows_a_signed_out_page(authkit: LocalAuthKit) -> None:
    response = await authkit.http.get(
        f"{authkit.url}/user_management/sessions/logout", params={"session_id": "session_unknown"}
    )

    assert response.status_code == 200
    assert "signed out" in response.text


@pytest.mark.parametrize("path", ["/user_management/authorize", "/oauth2/authorize"])
async def test_cancel_on_the_login_page_redirects_with_access_denied(
    authkit: LocalAuthKit, path: str
) -> None:
    client_id = await authkit.register_client()
    url = (
        authkit.workos_authorize_url()
        if path.startswith("/user")
        else authkit.oauth_authorize_url(client_id, code_challenge="A" * 43)
    )
    page = await authkit.http.get(url)
    form = parse_forms(page.text)[0][0]

    response = await authkit.http.post(f"{authkit.url}/sign-in", data={**form.values, "action": "cancel"})

    assert response.status_code == 303
    assert "error=access_denied" in response.headers["location"]
    assert "state=state-from-the-" in response.headers["location"]
