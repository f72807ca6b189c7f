"""Hostile and malformed tokens: each one a clean refusal with a documented reason, never an error.

A real auth service on loopback trusting one issuer whose JWKS a real endpoint serves. Every
case is sent both ways a caller asks: `ValidateToken` must answer UNAUTHENTICATED with the
reason, and Envoy's `Check` a 401 denial naming it. Neither may write an ERROR line (the
unhandled-error path logs a traceback per request).

"Signed" cases are signed by the trusted issuer's key: a signature vouches for who issued
the claims, not for their shape, so they must be refused after the signature check too.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import grpc
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2, external_auth_pb2_grpc

from atoms.auth.v1 import auth_pb2_grpc
from atoms_auth.errors import UnknownSigningKeyError
from atoms_auth.jwks_cache import JwksCache
from atoms_auth.settings import AuthSettings, TrustedIssuer
from tests.conftest import log_lines
from tests.support.auth_calls import Refusal, refusal
from tests.support.error_lines import error_lines
from tests.support.jwks_server import JwksEndpoint
from tests.support.loopback_http import serving_asgi
from tests.support.token_factory import KeyPair, mint, new_rsa_key, remember

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED.value[0]


@dataclass
class Service:
    """A running auth service: its AuthService and Envoy Authorization stubs and its issuer."""

    auth: auth_pb2_grpc.AuthServiceStub
    envoy: external_auth_pb2_grpc.AuthorizationStub
    issuer: str
    other_issuer: str
    key: KeyPair
    short_key: KeyPair


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return new_rsa_key("kid_main")


@pytest.fixture(scope="module")
def short_key() -> KeyPair:
    return KeyPair(
        kid="kid_short",
        private_key=rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505
        algorithm="RS256",
    )


@pytest.fixture
async def service(
    key: KeyPair, short_key: KeyPair, start_auth_server, auth_stub_factory
) -> AsyncIterator[Service]:
    jwks = JwksEndpoint(keys=[key.public_jwk, short_key.public_jwk])
    async with serving_asgi(jwks.app()) as base:
        issuer, other_issuer = f"{base}/tenant", f"{base}/user_management/client_test"
        settings = AuthSettings(
            issuers=(
                TrustedIssuer(issuer=issuer, jwks_url=f"{base}/jwks"),
                TrustedIssuer(issuer=other_issuer, jwks_url=f"{base}/jwks", first_party=True),
            ),
            metrics_port=None,
        )
        server = await start_auth_server(settings)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        try:
            yield Service(
                auth_stub_factory(server.port),
                external_auth_pb2_grpc.AuthorizationStub(channel),
                issuer,
                other_issuer,
                key,
                short_key,
            )
        finally:
            await channel.close()


@pytest.fixture(autouse=True)
def _no_error_lines() -> Iterator[None]:
    """Fail a test during which anything was logged at ERROR or above (a traceback per request)."""
    start = len(log_lines())
    yield
    errors = error_lines(log_lines()[start:])
    assert not errors, f"{len(errors)} ERROR line(s), e.g. {errors[0][:300]}"


def _b64(data: str | bytes) -> str:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned(header: str, payload: str) -> str:
    return remember(f"{_b64(header)}.{_b64(payload)}.{_b64(b'not-a-signature')}")


def _signed(key: KeyPair, payload: str, header: str | None = None) -> str:
    """Sign the JSON text `payload` (and `header`) exactly as written, with `key`."""
    header = header or json.dumps({"alg": "RS256", "typ": "JWT", "kid": key.kid})
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    algorithm = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256)
    return remember(f"{signing_input}.{_b64(algorithm.sign(signing_input.encode(), key.private_key))}")


def _claims(issuer: str, **raw: str) -> str:
    """A payload as JSON text: valid claims of `issuer`, with `raw` claims as JSON text in place."""
    claims = {"iss": json.dumps(issuer), "sub": '"user_01HOSTILE"', "exp": str(int(time.time()) + 300)}
    claims.update(raw)
    return "{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in claims.items()) + "}"


async def _check(service: Service, token: str) -> external_auth_pb2.CheckResponse:
    http = attribute_context_pb2.AttributeContext.HttpRequest(method="POST", path="/api/mcp")
    http.headers.update({"authorization": f"Bearer {token}"})
    request = external_auth_pb2.CheckRequest(
        attributes=attribute_context_pb2.AttributeContext(
            request=attribute_context_pb2.AttributeContext.Request(http=http)
        )
    )
    return await service.envoy.Check(request, timeout=10)


async def _assert_refused_both_ways(service: Service, token: str, reason: str, claim: str | None) -> Refusal:
    result = await refusal(service.auth, token)
    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, reason), result.message
    assert result.metadata == ({"claim": claim} if claim else {})

    response = await _check(service, token)
    assert response.WhichOneof("http_response") == "denied_response"
    assert (response.status.code, response.denied_response.status.code) == (UNAUTHENTICATED, 401)
    assert json.loads(response.denied_response.body) == {"error": "invalid_token", "reason": reason}
    return result


def _deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def _deep_object(depth: int) -> str:
    return '{"":' * depth + "0" + "}" * depth


# -- before the signature: the unverified header and payload ----------------------------------------

HEADER = json.dumps({"alg": "RS256", "kid": "kid_main"})


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        pytest.param(_deep_array(3000), "{}", id="header nested 3000 arrays deep"),
        pytest.param(
            '{"alg":"RS256","x":' + _deep_array(2500) + "}", "{}", id="header value nested 2500 deep"
        ),
        pytest.param(HEADER, _deep_array(3000), id="payload nested 3000 arrays deep"),
        pytest.param(HEADER, _deep_object(1100), id="payload nested 1100 objects deep"),
        pytest.param(HEADER, '{"iss":' + _deep_array(2500) + "}", id="iss nested 2500 deep"),
        pytest.param(HEADER, '{"exp":NaN}', id="payload holding NaN"),
        pytest.param(HEADER, '{"exp":-Infinity}', id="payload holding -Infinity"),
        pytest.param('{"alg":"RS256","kid":Infinity}', "{}", id="header holding Infinity"),
        pytest.param(HEADER, '{"exp":' + "9" * 5000 + "}", id="payload holding a 5000-digit number"),
    ],
)
async def test_hostile_unsigned_json_is_refused_as_malformed(
    service: Service, header: str, payload: str
) -> None:
    token = _unsigned(header, payload)
    assert len(token) <= 8192

    await _assert_refused_both_ways(service, token, "MALFORMED_TOKEN", None)


async def test_header_that_is_not_utf8_is_refused_as_malformed(service: Service) -> None:
    header = b'{"alg":"RS256","kid":"\xff"}'
    token = remember(f"{_b64(header)}.{_b64(b'{}')}.c2ln")

    await _assert_refused_both_ways(service, token, "MALFORMED_TOKEN", None)


# -- after the signature: claims signed by the trusted key ------------------------------------------

OUT_OF_RANGE = [
    pytest.param("exp", "1e400", id="exp 1e400 (infinity once parsed)"),
    pytest.param("exp", "1e300", id="exp 1e300"),
    pytest.param("exp", "253402300800", id="exp in year 10000"),
    pytest.param("exp", str(10**30), id="exp a 31-digit integer"),
    pytest.param("exp", '"4102444800"', id="exp a numeric string"),
    pytest.param("exp", "true", id="exp a boolean"),
    pytest.param("exp", '{"t":1}', id="exp an object"),
    pytest.param("nbf", str(10**30), id="nbf a 31-digit integer"),
    pytest.param("nbf", '"0"', id="nbf a string"),
    pytest.param("iat", str(-(10**30)), id="iat a negative 31-digit integer"),
    pytest.param("iat", "-1e400", id="iat -1e400"),
]


@pytest.mark.parametrize(("claim", "value"), OUT_OF_RANGE)
async def test_signed_time_claim_out_of_range_or_of_the_wrong_type_is_an_invalid_claim(
    service: Service, claim: str, value: str
) -> None:
    token = _signed(service.key, _claims(service.issuer, **{claim: value}))

    result = await _assert_refused_both_ways(service, token, "INVALID_CLAIM", claim)
    assert claim in result.message


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param({"x": _deep_array(2500)}, "MALFORMED_TOKEN", id="custom claim nested 2500 deep"),
        pytest.param({"act": _deep_object(1000)}, "MALFORMED_TOKEN", id="act nested 1000 objects deep"),
        pytest.param({"exp": "NaN"}, "MALFORMED_TOKEN", id="exp NaN"),
        pytest.param({"nbf": "Infinity"}, "MALFORMED_TOKEN", id="nbf Infinity"),
    ],
)
async def test_signed_hostile_json_is_refused_as_malformed(
    service: Service, raw: dict[str, str], reason: str
) -> None:
    token = _signed(service.key, _claims(service.issuer, **raw))
    assert len(token) <= 8192

    await _assert_refused_both_ways(service, token, reason, None)


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        pytest.param("sub", '""', id="empty sub"),
        pytest.param("sub", "42", id="numeric sub"),
        pytest.param("sub", '{"id":"user_1"}', id="object sub"),
        pytest.param("sub", '["user_1"]', id="array sub"),
        pytest.param("sub", "null", id="null sub"),
        pytest.param("sub", '"\\ud800"', id="sub a lone surrogate"),
        pytest.param("sub", '"user_1\\r\\nx-atoms-org-id: org_evil"', id="sub with CR LF (header injection)"),
        pytest.param("org_id", '"\\udfff"', id="org_id a lone surrogate"),
        pytest.param("org_id", '"org\\u0000"', id="org_id with NUL"),
        pytest.param("org_id", "[[1]]", id="org_id nested arrays"),
        pytest.param("roles", '["member","\\ud800"]', id="roles holding a lone surrogate"),
        pytest.param("roles", '[["member"]]', id="roles nested"),
        pytest.param("permissions", '{"p":1}', id="permissions an object"),
        pytest.param("aud", '[["https://a.test"]]', id="aud nested"),
        pytest.param("aud", "1e400", id="aud infinity"),
        pytest.param("scope", '{"mcp:read":true}', id="scope an object"),
        pytest.param("scope", '"mcp:read\\u0007"', id="scope with a control character"),
        pytest.param("scp", "[1,2]", id="scp numbers"),
        pytest.param("act", '{"sub":{"sub":"x"}}', id="act sub an object"),
        pytest.param("act", '"admin"', id="act a string"),
        pytest.param("jti", "5", id="jti a number"),
        pytest.param("client_id", "false", id="client_id a boolean"),
    ],
)
async def test_signed_claim_of_the_wrong_shape_is_an_invalid_claim(
    service: Service, claim: str, value: str
) -> None:
    token = _signed(service.key, _claims(service.issuer, **{claim: value}))

    await _assert_refused_both_ways(service, token, "INVALID_CLAIM", claim)


async def test_signed_claims_with_valid_unicode_are_still_accepted(service: Service) -> None:
    token = _signed(service.key, _claims(service.issuer, org_id='"org_\\ud83d\\ude00 caf\\u00e9"'))

    response = await _check(service, token)

    assert response.status.code == 0
    assert {h.header.key: h.header.value for h in response.ok_response.headers}[
        "x-atoms-org-id"
    ] == "org_😀 café"


# -- untrusted issuers: the refusal says what the token names and what is trusted -----------------


async def test_untrusted_issuer_refusal_names_the_issuer_and_the_trusted_ones(service: Service) -> None:
    lines_before = len(log_lines())
    token = mint(service.key, issuer="https://evil.example/tenant")

    result = await _assert_refused_both_ways(service, token, "UNTRUSTED_ISSUER", None)

    assert "'https://evil.example/tenant'" in result.message
    assert repr(service.issuer) in result.message
    assert repr(service.other_issuer) in result.message
    refusals = [line for line in log_lines()[lines_before:] if "token refused: UNTRUSTED_ISSUER" in line]
    assert len(refusals) == 2  # ValidateToken and Check
    assert all("'https://evil.example/tenant'" in line for line in refusals)


async def test_untrusted_issuer_is_shown_escaped_and_cut_to_200_characters(service: Service) -> None:
    hostile = "https://evil.example/\u202e\n" + "x" * 5000
    token = mint(service.key, issuer=hostile)

    result = await refusal(service.auth, token)

    assert result.reason == "UNTRUSTED_ISSUER"
    shown = result.message.split("token issuer ", 1)[1].split(" is not trusted", 1)[0]
    assert shown.startswith("'https://evil.example/\\u202e\\n")
    assert shown.endswith("...")
    assert len(shown) <= 200
    assert token not in result.message


@pytest.mark.parametrize(
    ("iss", "problem"),
    [
        pytest.param("null", 'no "iss" claim', id="iss null"),
        pytest.param('["https://a.test"]', "must be a string, not an array", id="iss an array"),
        pytest.param("7", "must be a string, not a number", id="iss a number"),
        pytest.param('{"iss":"x"}', "must be a string, not an object", id="iss an object"),
    ],
)
async def test_issuer_that_is_not_a_string_is_untrusted_and_the_trusted_ones_are_named(
    service: Service, iss: str, problem: str
) -> None:
    token = _signed(service.key, _claims(service.issuer, iss=iss))

    result = await _assert_refused_both_ways(service, token, "UNTRUSTED_ISSUER", None)

    assert problem in result.message
    assert repr(service.issuer) in result.message


# -- short RSA keys ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_token_signed_with_a_published_1024_bit_rsa_key_is_refused(service: Service) -> None:
    token = mint(service.short_key, issuer=service.issuer)

    await _assert_refused_both_ways(service, token, "UNKNOWN_SIGNING_KEY", None)


async def test_short_rsa_key_is_skipped_with_a_warning_and_the_others_are_kept(
    key: KeyPair, short_key: KeyPair
) -> None:
    lines_before = len(log_lines())
    body = json.dumps({"keys": [short_key.public_jwk, key.public_jwk]}).encode()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    async with httpx.AsyncClient(transport=transport) as client:
        cache = JwksCache(
            issuer="https://issuer.test", jwks_url="https://issuer.test/jwks", http_client=client
        )
        await cache.refresh()

        assert (await cache.get_signing_key(key.kid)).kid == key.kid
        with pytest.raises(UnknownSigningKeyError):
            await cache.get_signing_key(short_key.kid)

    warnings = [json.loads(line) for line in log_lines()[lines_before:] if "1024-bit RSA key" in line]
    assert [entry["severity"] for entry in warnings] == ["WARNING"]


# -- the happy path is untouched --------------------------------------------------------------------


async def test_ordinary_token_is_still_accepted_both_ways(service: Service) -> None:
    token = mint(service.key, issuer=service.issuer, act={"sub": "admin_1", "act": {"sub": "admin_0"}})

    response = await _check(service, token)

    assert response.status.code == 0
