"""The local AuthKit's OAuth 2.1 authorization server for MCP clients.

Metadata, dynamic registration, PKCE S256, and the RFC 8707 `resource` that becomes `aud`.
"""

from __future__ import annotations

import jwt

from tests.support.local_authkit import APP_API_KEY, APP_CLIENT_ID, CALLBACK, PUBLIC_CALLBACK, LocalAuthKit

RESOURCE = "http://127.0.0.1:48000/api/mcp"


async def test_metadata_advertises_registration_authorize_and_token_with_s256_only(
    authkit: LocalAuthKit,
) -> None:
    document = (await authkit.http.get(f"{authkit.url}/.well-known/oauth-authorization-server")).json()

    assert document["issuer"] == authkit.url
    assert document["authorization_endpoint"] == f"{authkit.url}/oauth2/authorize"
    assert document["token_endpoint"] == f"{authkit.url}/oauth2/token"
    assert document["registration_endpoint"] == f"{authkit.url}/oauth2/register"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "none" in document["token_endpoint_auth_methods_supported"]


async def test_every_advertised_endpoint_is_served(authkit: LocalAuthKit) -> None:
    document = (await authkit.http.get(f"{authkit.url}/.well-known/oauth-authorization-server")).json()

    for name in ("authorization_endpoint", "token_endpoint", "registration_endpoint", "jwks_uri"):
        response = await authkit.http.request(
            "GET" if name in ("jwks_uri", "authorization_endpoint") else "POST", document[name]
        )
        assert response.status_code != 404, name


async def test_registration_answers_a_public_client_with_its_redirect_uris(authkit: LocalAuthKit) -> None:
    response = await authkit.register(
        client_name="Claude", grant_types=["authorization_code", "refresh_token"]
    )

    body = response.json()
    assert response.status_code == 201
    assert body["client_id"].startswith("client_")
    assert body["redirect_uris"] == [PUBLIC_CALLBACK]
    assert (body["token_endpoint_auth_method"], body["grant_types"], body["response_types"]) == (
        "none",
        ["authorization_code", "refresh_token"],
        ["code"],
    )


async def test_registered_client_signs_in_and_gets_a_token_for_the_resource_it_named(
    authkit: LocalAuthKit,
) -> None:
    client_id = await authkit.register_client()
    signed_in = await authkit.sign_in_public_client(client_id, resource=RESOURCE, email="hedy@globex.test")

    response = await authkit.token(
        grant_type="authorization_code",
        code=signed_in.code,
        code_verifier=signed_in.verifier or "",
        redirect_uri=PUBLIC_CALLBACK,
        client_id=client_id,
        resource=RESOURCE,
    )

    body = response.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert response.status_code == 200
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 300)
    assert body["refresh_token"]
    assert (claims["aud"], claims["client_id"], claims["sub"], claims["org_id"]) == (
        RESOURCE,
        client_id,
        "user_hedy",
        "org_globex",
    )
    assert signed_in.redirect.state == "state-from-the-mcp-client"


async def test_token_request_may_leave_out_the_resource_and_still_gets_the_authorized_one(
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
    )

    assert jwt.decode(response.json()["access_token"], options={"verify_signature": False})["aud"] == RESOURCE


async def test_public_client_refreshes_without_a_secret_and_keeps_the_audience(authkit: LocalAuthKit) -> None:
    client_id = await authkit.register_client()
    signed_in = await authkit.sign_in_public_client(client_id, resource=RESOURCE)
    first = (
        await authkit.token(
            grant_type="authorization_code",
            code=signed_in.code,
            code_verifier=signed_in.verifier or "",
            redirect_uri=PUBLIC_CALLBACK,
            client_id=client_id,
        )
    ).json()

    response = await authkit.token(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id=client_id,
        resource=RESOURCE,
    )

    assert response.status_code == 200
    assert jwt.decode(response.json()["access_token"], options={"verify_signature": False})["aud"] == RESOURCE
    assert response.json()["refresh_token"] != first["refresh_token"]


async def test_application_may_use_the_token_endpoint_with_basic_authentication(
    authkit: LocalAuthKit,
) -> None:
    signed_in = await authkit.sign_in()

    response = await authkit.http.post(
        f"{authkit.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": signed_in.code,
            "code_verifier": signed_in.verifier,
            "redirect_uri": CALLBACK,
        },
        auth=(APP_CLIENT_ID, APP_API_KEY),
    )

    assert response.status_code == 200
    assert "aud" not in jwt.decode(response.json()["access_token"], options={"verify_signature": False})
