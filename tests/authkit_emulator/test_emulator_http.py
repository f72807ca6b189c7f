"""The emulator over real HTTP: discovery, JWKS, /dev/token, /dev/rotate, health."""

from __future__ import annotations

import jwt
import pytest

from atoms_devtools.authkit_emulator import EmulatorKeyStore

PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


async def test_openid_configuration_points_at_the_jwks(http, emulator):
    document = (await http.get("/.well-known/openid-configuration")).json()

    assert document["issuer"] == emulator
    assert document["jwks_uri"] == f"{emulator}/oauth2/jwks"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


async def test_openid_configuration_advertises_the_oauth_endpoints_with_pkce(http, emulator):
    document = (await http.get("/.well-known/openid-configuration")).json()

    assert document["authorization_endpoint"] == f"{emulator}/oauth2/authorize"
    assert document["token_endpoint"] == f"{emulator}/oauth2/token"
    assert document["registration_endpoint"] == f"{emulator}/oauth2/register"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["grant_types_supported"] == ["authorization_code", "refresh_token"]


async def test_oauth_authorization_server_metadata_matches_the_openid_configuration(http):
    oidc = await http.get("/.well-known/openid-configuration")
    rfc8414 = await http.get("/.well-known/oauth-authorization-server")

    assert rfc8414.status_code == 200
    assert rfc8414.json() == oidc.json()


async def test_jwks_is_cacheable_for_the_configured_max_age(http):
    response = await http.get("/oauth2/jwks")

    assert response.headers["cache-control"] == "public, max-age=120"


async def test_sso_jwks_serves_the_same_keys_for_any_client_id(http):
    authkit = (await http.get("/oauth2/jwks")).json()

    for client_id in ("client_dev", "client_01HZZZ", "anything"):
        response = await http.get(f"/sso/jwks/{client_id}")
        assert response.json() == authkit
        assert response.headers["cache-control"] == "public, max-age=120"


async def test_jwks_never_contains_private_key_material(http):
    await http.post("/dev/rotate")

    keys = (await http.get("/oauth2/jwks")).json()["keys"]

    assert len(keys) == 2
    for key in keys:
        assert not PRIVATE_JWK_MEMBERS & set(key)
        assert "PRIVATE" not in str(key)


async def test_minted_token_verifies_against_the_published_jwks(http, emulator, fetch_jwks, verify):
    response = await http.post("/dev/token", json={"sub": "user_1", "org_id": "org_1", "ttl_s": 60})
    keys = await fetch_jwks(http)

    claims = verify(response.json()["access_token"], keys, issuer=emulator)

    assert (claims["sub"], claims["org_id"], claims["exp"] - claims["iat"]) == ("user_1", "org_1", 60)


async def test_dev_token_answers_like_a_token_endpoint(http):
    response = await http.post("/dev/token", json={"sub": "user_1", "ttl_s": 90})

    body = response.json()
    assert response.status_code == 200
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 90)


async def test_dev_token_passes_every_field_into_the_claims(http):
    request = {
        "sub": "user_1",
        "org_id": "org_1",
        "role": "admin",
        "roles": ["admin", "member"],
        "permissions": ["a", "b"],
        "scopes": ["openid", "atoms:mcp"],
        "aud": "https://mcp.atoms.test",
        "client_id": "client_1",
    }

    token = (await http.post("/dev/token", json=request)).json()["access_token"]

    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["role"], claims["roles"], claims["permissions"]) == (
        "admin",
        ["admin", "member"],
        ["a", "b"],
    )
    assert (claims["scope"], claims["aud"], claims["client_id"]) == (
        "openid atoms:mcp",
        "https://mcp.atoms.test",
        "client_1",
    )


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({}, "sub"),
        ({"sub": ""}, "sub"),
        ({"sub": "user_1", "ttl_s": 0}, "ttl_s"),
        ({"sub": "user_1", "ttl_s": -5}, "ttl_s"),
        ({"sub": "user_1", "ttl_s": 86_401}, "ttl_s"),
        ({"sub": "user_1", "ttl_s": "300"}, "ttl_s"),
        ({"sub": "user_1", "permissions": "a,b"}, "permissions"),
        ({"sub": "user_1", "subject": "typo"}, "subject"),
        (["user_1"], "JSON object"),
    ],
    ids=[
        "missing sub",
        "empty sub",
        "zero ttl",
        "negative ttl",
        "ttl over a day",
        "ttl as a string",
        "permissions not a list",
        "unknown field",
        "not an object",
    ],
)
async def test_dev_token_refuses_a_bad_request_with_400(http, body, complaint):
    response = await http.post("/dev/token", json=body)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert complaint in response.json()["error_description"]


async def test_dev_token_refuses_a_body_that_is_not_json(http):
    response = await http.post("/dev/token", content=b"sub=user_1")

    assert response.status_code == 400
    assert response.json()["error_description"] == "the body is not valid JSON"


async def test_dev_rotate_publishes_the_new_kid_alongside_the_old_one(http):
    old_kid = (await http.get("/oauth2/jwks")).json()["keys"][0]["kid"]

    rotation = (await http.post("/dev/rotate", json={"publish_lead_s": 15, "grace_s": 60})).json()

    published = [key["kid"] for key in (await http.get("/oauth2/jwks")).json()["keys"]]
    assert published == [old_kid, rotation["kid"]]
    assert rotation["previous_kid"] == old_kid
    assert rotation["previous_retire_at"] == rotation["active_from"] + 60


async def test_dev_rotate_with_no_lead_signs_the_next_token_with_the_new_key(http):
    rotation = (await http.post("/dev/rotate", json={"publish_lead_s": 0})).json()

    token = (await http.post("/dev/token", json={"sub": "user_1"})).json()["access_token"]

    assert jwt.get_unverified_header(token)["kid"] == rotation["kid"]


async def test_dev_rotate_refuses_a_negative_grace(http):
    response = await http.post("/dev/rotate", json={"grace_s": -1})

    assert response.status_code == 400
    assert "grace_s" in response.json()["error_description"]


async def test_rotation_by_another_process_is_served_without_restart(http, key_file):
    rotation = EmulatorKeyStore(path=key_file).rotate(publish_lead_s=15, grace_s=300)

    published = [key["kid"] for key in (await http.get("/oauth2/jwks")).json()["keys"]]

    assert rotation.kid in published


async def test_health_reports_ok(http):
    response = await http.get("/health")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
