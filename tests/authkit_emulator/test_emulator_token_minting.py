"""mint_token: AuthKit's access-token shape, signed by the key active at issue time."""

from __future__ import annotations

import jwt
import pytest

from atoms_devtools.authkit_emulator import EmulatorKeyStore, mint_token

ISSUER = "http://127.0.0.1:8100"


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def clocked_store(key_file, clock):
    return EmulatorKeyStore(path=key_file, clock=clock)


def test_token_has_authkit_claim_shape(clocked_store, clock):
    token = mint_token(
        clocked_store, issuer=ISSUER, subject="user_1", org_id="org_1", permissions=["posts:read"]
    )

    claims = claims_of(token)
    assert set(claims) == {"iss", "sub", "sid", "org_id", "role", "roles", "permissions", "jti", "iat", "exp"}
    assert claims["iss"] == ISSUER
    assert (claims["sub"], claims["org_id"]) == ("user_1", "org_1")
    assert (claims["role"], claims["roles"], claims["permissions"]) == ("member", ["member"], ["posts:read"])
    assert claims["sid"].startswith("session_")
    assert (claims["iat"], claims["exp"]) == (int(clock.now), int(clock.now) + 300)


def test_token_header_names_the_signing_key(clocked_store):
    token = mint_token(clocked_store, issuer=ISSUER, subject="user_1")

    assert jwt.get_unverified_header(token) == {
        "alg": "RS256",
        "typ": "JWT",
        "kid": clocked_store.signing_key().kid,
    }


def test_optional_claims_are_left_out_unless_asked_for(clocked_store):
    claims = claims_of(mint_token(clocked_store, issuer=ISSUER, subject="user_1"))

    assert not {"org_id", "scope", "aud", "client_id"} & set(claims)


def test_scopes_audience_and_client_id_are_added_when_given(clocked_store):
    token = mint_token(
        clocked_store,
        issuer=ISSUER,
        subject="user_1",
        scopes=["openid", "atoms:mcp"],
        audience="https://mcp.atoms.test",
        client_id="client_1",
    )

    claims = claims_of(token)
    assert (claims["scope"], claims["aud"], claims["client_id"]) == (
        "openid atoms:mcp",
        "https://mcp.atoms.test",
        "client_1",
    )


def test_every_token_gets_its_own_jti_and_session(clocked_store):
    first, second = (claims_of(mint_token(clocked_store, issuer=ISSUER, subject="user_1")) for _ in range(2))

    assert first["jti"] != second["jti"]
    assert first["sid"] != second["sid"]


def test_extra_claims_override_standard_claims(clocked_store):
    token = mint_token(clocked_store, issuer=ISSUER, subject="user_1", extra_claims={"iss": "https://evil"})

    assert claims_of(token)["iss"] == "https://evil"


def test_token_is_signed_by_the_key_active_at_its_issue_time(clocked_store, clock):
    old_kid = clocked_store.signing_key().kid
    rotation = clocked_store.rotate(publish_lead_s=15, grace_s=300)

    before = mint_token(clocked_store, issuer=ISSUER, subject="user_1", now=clock.now + 14)
    after = mint_token(clocked_store, issuer=ISSUER, subject="user_1", now=clock.now + 15)

    assert jwt.get_unverified_header(before)["kid"] == old_kid
    assert jwt.get_unverified_header(after)["kid"] == rotation.kid


@pytest.mark.parametrize("ttl_s", [0, -1, 86_401], ids=["zero", "negative", "over a day"])
def test_out_of_range_ttl_is_refused(clocked_store, ttl_s):
    with pytest.raises(ValueError, match="ttl_s"):
        mint_token(clocked_store, issuer=ISSUER, subject="user_1", ttl_s=ttl_s)


def test_empty_subject_is_refused(clocked_store):
    with pytest.raises(ValueError, match="subject"):
        mint_token(clocked_store, issuer=ISSUER, subject="")
