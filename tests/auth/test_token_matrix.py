"""The attack and edge matrix: every way a token can be wrong, each case its own test.

A real auth service on loopback, a real JWKS endpoint, real gRPC calls.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from pydantic import SecretStr

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_auth.settings import AuthSettings, InternalTokenSpec, TrustedIssuer
from tests.support.auth_calls import refusal, validate
from tests.support.jwks_server import JwksEndpoint
from tests.support.loopback_http import serving_asgi
from tests.support.token_factory import KeyPair, mint, new_ec_key, new_rsa_key, remember

INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))
ROTATED_INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))
AUDIENCE = "https://mcp.atoms.test/api/mcp"


@dataclass
class Setup:
    """A running auth service trusting one issuer (third party) and one first-party issuer."""

    stub: auth_pb2_grpc.AuthServiceStub
    issuer: str
    first_party_issuer: str
    key: KeyPair
    other_key: KeyPair
    jwks: JwksEndpoint


@pytest.fixture(scope="module")
def keys() -> tuple[KeyPair, KeyPair]:
    return new_rsa_key("kid_main"), new_rsa_key("kid_second")


@pytest.fixture
async def setup(keys, start_auth_server, auth_stub_factory) -> AsyncIterator[Setup]:
    key, other_key = keys
    jwks = JwksEndpoint(keys=[key.public_jwk, other_key.public_jwk])
    async with serving_asgi(jwks.app()) as base:
        issuer, first_party_issuer = f"{base}/tenant", f"{base}/user_management/client_test"
        settings = AuthSettings(
            issuers=(
                TrustedIssuer(issuer=issuer, jwks_url=f"{base}/jwks"),
                TrustedIssuer(issuer=first_party_issuer, jwks_url=f"{base}/jwks", first_party=True),
            ),
            internal_tokens=(
                InternalTokenSpec(name="agent", token=SecretStr(INTERNAL_TOKEN), scopes=("tokens:validate",)),
                InternalTokenSpec(name="agent-next", token=SecretStr(ROTATED_INTERNAL_TOKEN)),
            ),
            metrics_port=None,
        )
        server = await start_auth_server(settings)
        yield Setup(auth_stub_factory(server.port), issuer, first_party_issuer, key, other_key, jwks)


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(header: dict, payload: dict, secret: bytes) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return remember(f"{signing_input}.{_b64(signature)}")


async def test_valid_token_returns_its_principal(setup: Setup) -> None:
    token = mint(
        setup.key,
        issuer=setup.issuer,
        subject="user_42",
        org_id="org_7",
        role="admin",
        roles=["admin", "member"],
        permissions=["projects:write"],
        entitlements=["sso"],
        scope="mcp:read mcp:write",
        client_id="client_abc",
        aud=["https://a.test", AUDIENCE],
        act={"sub": "admin_9"},
    )
    principal = await validate(setup.stub, token)
    assert principal.kind == auth_pb2.PRINCIPAL_KIND_USER
    assert (principal.subject, principal.org_id, principal.role) == ("user_42", "org_7", "admin")
    assert principal.issuer == setup.issuer
    assert list(principal.roles) == ["admin", "member"]
    assert list(principal.permissions) == ["projects:write"]
    assert list(principal.entitlements) == ["sso"]
    assert list(principal.scopes) == ["mcp:read", "mcp:write"]
    assert principal.client_id == "client_abc"
    assert list(principal.audiences) == ["https://a.test", AUDIENCE]
    assert principal.actor == "admin_9"
    assert principal.session_id == "session_01TEST"
    assert principal.token_id
    assert abs(principal.expires_at.seconds - (time.time() + 300)) < 60


async def test_bearer_prefixed_value_is_accepted(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer)
    principal = await validate(setup.stub, f"bEaReR {token}")
    assert principal.subject == "user_01TEST"


async def test_scp_list_is_read_as_scopes(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, scp=["a", "b"], azp="client_azp")
    principal = await validate(setup.stub, token)
    assert list(principal.scopes) == ["a", "b"]
    assert principal.client_id == "client_azp"


async def test_expired_token_is_rejected_as_unauthenticated(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, ttl_s=-120)
    result = await refusal(setup.stub, token)
    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_EXPIRED")
    assert result.domain == "auth.atoms.internal"


async def test_token_expired_within_leeway_is_accepted(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, ttl_s=-10)
    assert (await validate(setup.stub, token)).subject == "user_01TEST"


async def test_token_without_exp_is_rejected(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, omit=("exp",))
    result = await refusal(setup.stub, token)
    assert (result.code, result.reason, result.metadata) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "INVALID_CLAIM",
        {"claim": "exp"},
    )


async def test_token_with_non_numeric_exp_is_rejected(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, exp="tomorrow")
    result = await refusal(setup.stub, token)
    assert result.code == grpc.StatusCode.UNAUTHENTICATED
    assert result.reason in ("MALFORMED_TOKEN", "INVALID_CLAIM")


@pytest.mark.parametrize(
    ("claim", "offset_s", "accepted"),
    [
        pytest.param("nbf", 10, True, id="nbf 10s ahead is inside the 30s leeway"),
        pytest.param("nbf", 120, False, id="nbf 2min ahead is outside the leeway"),
        pytest.param("iat", 10, True, id="iat 10s ahead is inside the 30s leeway"),
        pytest.param("iat", 120, False, id="iat 2min ahead is outside the leeway"),
    ],
)
async def test_future_nbf_and_iat_respect_the_leeway(
    setup: Setup, claim: str, offset_s: int, accepted: bool
) -> None:
    token = mint(setup.key, issuer=setup.issuer, **{claim: int(time.time()) + offset_s})
    if accepted:
        assert (await validate(setup.stub, token)).subject == "user_01TEST"
    else:
        result = await refusal(setup.stub, token)
        assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_NOT_YET_VALID")


async def test_wrong_issuer_is_untrusted(setup: Setup) -> None:
    token = mint(setup.key, issuer="https://evil.example")
    result = await refusal(setup.stub, token)
    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNTRUSTED_ISSUER")


@pytest.mark.parametrize(
    "suffix",
    [
        pytest.param("evil", id="appended text"),
        pytest.param(".evil.example", id="appended domain"),
        pytest.param("/", id="trailing slash"),
    ],
)
async def test_issuer_that_only_starts_with_a_trusted_one_is_untrusted(setup: Setup, suffix: str) -> None:
    token = mint(setup.key, issuer=setup.issuer + suffix)
    assert (await refusal(setup.stub, token)).reason == "UNTRUSTED_ISSUER"


async def test_token_without_issuer_is_untrusted(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, omit=("iss",))
    assert (await refusal(setup.stub, token)).reason == "UNTRUSTED_ISSUER"


async def test_matching_audience_is_accepted(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, aud=AUDIENCE)
    assert (await validate(setup.stub, token, audience=AUDIENCE)).audiences == [AUDIENCE]


async def test_wrong_audience_is_rejected_when_an_audience_is_asked_for(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, aud="https://other.example/mcp")
    result = await refusal(setup.stub, token, audience=AUDIENCE)
    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_AUDIENCE")


async def test_missing_audience_is_rejected_for_a_third_party_token(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer)
    assert (await refusal(setup.stub, token, audience=AUDIENCE)).reason == "INVALID_AUDIENCE"


async def test_first_party_session_token_without_aud_passes_the_audience_check(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.first_party_issuer)
    assert (await validate(setup.stub, token, audience=AUDIENCE)).issuer == setup.first_party_issuer


async def test_first_party_token_minted_for_another_audience_is_rejected(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.first_party_issuer, aud="https://other.example")
    assert (await refusal(setup.stub, token, audience=AUDIENCE)).reason == "INVALID_AUDIENCE"


async def test_tampered_payload_fails_the_signature_check(setup: Setup) -> None:
    header, payload, signature = _segments(mint(setup.key, issuer=setup.issuer, org_id="org_a"))
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["org_id"] = "org_b"
    forged = remember(f"{header}.{_b64(json.dumps(claims).encode())}.{signature}")
    result = await refusal(setup.stub, forged)
    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_SIGNATURE")


async def test_token_signed_by_another_key_under_a_known_kid_is_rejected(setup: Setup) -> None:
    impostor = new_rsa_key(setup.key.kid)
    token = mint(impostor, issuer=setup.issuer)
    assert (await refusal(setup.stub, token)).reason == "INVALID_SIGNATURE"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("abc", id="1 segment"),
        pytest.param("abc.def", id="2 segments"),
        pytest.param("a.b.c.d", id="4 segments"),
        pytest.param("a!b.c$d.e%f", id="not base64url"),
        pytest.param(f"{_b64(b'not json')}.{_b64(b'{}')}.sig", id="header not JSON"),
        pytest.param(f"{_b64(b'[1]')}.{_b64(b'{}')}.sig", id="header not an object"),
        pytest.param(
            f"{_b64(json.dumps({'alg': 'RS256'}).encode())}.{_b64(b'nope')}.sig", id="payload not JSON"
        ),
    ],
)
async def test_malformed_tokens_are_rejected(setup: Setup, token: str) -> None:
    result = await refusal(setup.stub, token)
    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "MALFORMED_TOKEN")


async def test_100_kb_token_is_an_invalid_argument(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, padding="x" * 74_000)
    assert 99_000 < len(token) < 101_000
    result = await refusal(setup.stub, token)
    assert (result.code, result.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "TOKEN_TOO_LARGE")


async def test_request_larger_than_the_message_limit_is_refused_by_grpc(setup: Setup) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await validate(setup.stub, "x" * 300_000)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_alg_none_is_rejected(setup: Setup) -> None:
    token = remember(
        jwt_none := f"{_b64(json.dumps({'alg': 'none', 'kid': setup.key.kid}).encode())}."
        f"{_b64(json.dumps({'iss': setup.issuer, 'sub': 'x', 'exp': int(time.time()) + 60}).encode())}."
    )
    assert jwt_none
    result = await refusal(setup.stub, token)
    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNSUPPORTED_ALGORITHM")


@pytest.mark.parametrize("secret_form", ["pem", "jwk"])
async def test_hs256_signed_with_the_public_key_is_rejected(setup: Setup, secret_form: str) -> None:
    secret = setup.key.public_pem if secret_form == "pem" else json.dumps(setup.key.public_jwk).encode()
    payload = {"iss": setup.issuer, "sub": "attacker", "exp": int(time.time()) + 60}
    token = _hs256({"alg": "HS256", "typ": "JWT", "kid": setup.key.kid}, payload, secret)
    assert (await refusal(setup.stub, token)).reason == "UNSUPPORTED_ALGORITHM"


async def test_algorithm_not_allowed_for_the_issuer_is_rejected(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, algorithm="RS384")
    assert (await refusal(setup.stub, token)).reason == "UNSUPPORTED_ALGORITHM"


async def test_ec_token_naming_an_rsa_kid_is_rejected(setup: Setup) -> None:
    ec_key = new_ec_key(setup.key.kid)
    token = mint(ec_key, issuer=setup.issuer)
    assert (await refusal(setup.stub, token)).reason == "UNSUPPORTED_ALGORITHM"


@pytest.mark.parametrize("header", ["jku", "x5u"])
async def test_key_url_headers_are_ignored_and_never_fetched(setup: Setup, header: str) -> None:
    attacker = new_rsa_key("kid_attacker")
    base = setup.issuer.rsplit("/", 1)[0]
    token = mint(attacker, issuer=setup.issuer, header_overrides={header: f"{base}/attacker/jwks"})
    assert (await refusal(setup.stub, token)).reason == "UNKNOWN_SIGNING_KEY"
    assert setup.jwks.other_requests == []


async def test_embedded_jwk_header_is_ignored(setup: Setup) -> None:
    attacker = new_rsa_key("kid_attacker")
    token = mint(attacker, issuer=setup.issuer, header_overrides={"jwk": attacker.public_jwk})
    assert (await refusal(setup.stub, token)).reason == "UNKNOWN_SIGNING_KEY"


async def test_embedded_jwk_header_naming_a_known_kid_still_uses_the_published_key(setup: Setup) -> None:
    attacker = new_rsa_key(setup.key.kid)
    token = mint(attacker, issuer=setup.issuer, header_overrides={"jwk": attacker.public_jwk})
    assert (await refusal(setup.stub, token)).reason == "INVALID_SIGNATURE"


async def test_missing_kid_is_rejected_when_the_issuer_publishes_several_keys(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, header_overrides={"kid": None})
    result = await refusal(setup.stub, token)
    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNKNOWN_SIGNING_KEY")


async def test_internal_token_is_accepted_as_its_service(setup: Setup) -> None:
    principal = await validate(
        setup.stub, INTERNAL_TOKEN, required_scopes=("tokens:validate",), audience=AUDIENCE
    )
    assert principal.kind == auth_pb2.PRINCIPAL_KIND_INTERNAL
    assert (principal.subject, principal.service_name) == ("service:agent", "agent")
    assert not principal.HasField("expires_at")


async def test_second_internal_token_is_accepted_during_rotation(setup: Setup) -> None:
    assert (await validate(setup.stub, f"Bearer {ROTATED_INTERNAL_TOKEN}")).service_name == "agent-next"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            INTERNAL_TOKEN[:-1] + ("A" if INTERNAL_TOKEN[-1] != "A" else "B"), id="last character wrong"
        ),
        pytest.param(INTERNAL_TOKEN[:20], id="a prefix of the token"),
        pytest.param(INTERNAL_TOKEN + "x", id="the token plus one character"),
    ],
)
async def test_wrong_internal_tokens_are_rejected(setup: Setup, token: str) -> None:
    remember(token)
    result = await refusal(setup.stub, token)
    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "MALFORMED_TOKEN")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("Bearer ", id="bearer only"),
        pytest.param("   ", id="white space"),
    ],
)
async def test_empty_token_is_missing(setup: Setup, token: str) -> None:
    result = await refusal(setup.stub, token)
    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "MISSING_TOKEN")


async def test_missing_scopes_are_permission_denied_with_their_names(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, scope="mcp:read")
    result = await refusal(setup.stub, token, required_scopes=("mcp:read", "mcp:write", "admin"))
    assert (result.code, result.reason) == (grpc.StatusCode.PERMISSION_DENIED, "INSUFFICIENT_SCOPE")
    assert result.metadata == {"missing_scopes": "mcp:write admin"}


async def test_internal_token_without_the_scope_is_permission_denied(setup: Setup) -> None:
    result = await refusal(setup.stub, ROTATED_INTERNAL_TOKEN, required_scopes=("tokens:validate",))
    assert result.code == grpc.StatusCode.PERMISSION_DENIED


async def test_too_many_required_scopes_are_an_invalid_argument(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer)
    result = await refusal(setup.stub, token, required_scopes=tuple(f"s{i}" for i in range(40)))
    assert (result.code, result.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")


async def test_claim_of_the_wrong_type_is_rejected(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, org_id=["org_a", "org_b"])
    result = await refusal(setup.stub, token)
    assert (result.reason, result.metadata) == ("INVALID_CLAIM", {"claim": "org_id"})


async def test_repeated_token_is_answered_identically_from_the_cache(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, org_id="org_cached")
    first = await validate(setup.stub, token)
    requests_after_first = setup.jwks.requests
    second = await validate(setup.stub, token)
    assert first == second
    assert setup.jwks.requests == requests_after_first


async def test_cached_token_still_gets_the_audience_and_scope_checks(setup: Setup) -> None:
    token = mint(setup.key, issuer=setup.issuer, aud="https://a.example")
    await validate(setup.stub, token)
    assert (await refusal(setup.stub, token, audience=AUDIENCE)).reason == "INVALID_AUDIENCE"
    assert (await refusal(setup.stub, token, required_scopes=("x",))).reason == "INSUFFICIENT_SCOPE"
