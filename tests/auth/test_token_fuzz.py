"""Fuzzing the token parser and the validator: a token is accepted, or refused with a documented reason.

hypothesis drives the real TokenValidator: a real JwtVerifier whose JwksCache fetches the
issuer's RSA-2048 key from a JWKS endpoint on loopback, so that tokens signed with that key
and carrying fuzzed headers and claims reach the checks after the signature. Any outcome
other than a principal or an AuthError whose reason is an `atoms.auth.v1.ErrorReason` fails,
and so does any ERROR line (the unhandled-error path logs one per request).

Each test runs ATOMS_FUZZ_EXAMPLES examples (default 200, a few seconds in `make test`);
`make fuzz` runs 20000. hypothesis keeps no example database here (nothing is written to
the checkout); a failure prints the `@reproduce_failure` line to replay it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from atoms.auth.v1 import auth_pb2
from atoms_auth.envoy_authorization import RouteRequirements, deny, identity_headers
from atoms_auth.errors import AuthError
from atoms_auth.internal_tokens import InternalTokenRegistry
from atoms_auth.jwks_cache import JwksCache
from atoms_auth.jwt_verifier import JwtVerifier
from atoms_auth.settings import TrustedIssuer
from atoms_auth.token_cache import VerifiedTokenCache
from atoms_auth.token_validator import TokenValidator, ValidationRequest
from atoms_grpc.principal import Principal
from tests.conftest import log_lines
from tests.support.error_lines import error_lines
from tests.support.jwks_server import JwksEndpoint
from tests.support.loopback_http import serving_asgi
from tests.support.token_factory import KeyPair, new_rsa_key

EXAMPLES = int(os.environ.get("ATOMS_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,  # the suite's autouse log checks; they hold no state
    ],
)
DOCUMENTED_REASONS = frozenset(
    name.removeprefix("ERROR_REASON_")
    for name in auth_pb2.ErrorReason.keys()  # noqa: SIM118 (an enum wrapper)
) - {"UNSPECIFIED"}
KID = "kid_fuzz"


@dataclass
class Harness:
    """The validator under test, on an event loop of its own that also serves the JWKS."""

    runner: asyncio.Runner
    validator: TokenValidator
    issuer: str
    key: KeyPair

    def outcome(self, token: str) -> str:
        """Validate `token`; return "accepted" or the refusal's reason. Anything else raises."""
        try:
            principal = self.runner.run(self.validator.validate(ValidationRequest(token=token)))
        except AuthError as err:
            refused = err
        else:
            _check_accepted(principal)
            event("accepted")  # `--hypothesis-show-statistics` shows how the examples ended
            return "accepted"
        assert refused.reason in DOCUMENTED_REASONS, f"undocumented reason {refused.reason!r}"
        refused.to_status_proto().SerializeToString()  # the refusal can be sent over gRPC...
        deny(refused, RouteRequirements())  # ...and as Envoy's denial
        event(refused.reason)
        return refused.reason


def _check_accepted(principal: Principal) -> None:
    principal.to_proto().SerializeToString()
    headers, _ = identity_headers(principal)
    for value in headers.values():  # Envoy sets these as HTTP headers
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in value), value


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    key = new_rsa_key(KID)
    with asyncio.Runner() as runner, contextlib.ExitStack() as cleanup:
        base = runner.run(_enter(cleanup, runner, serving_asgi(JwksEndpoint(keys=[key.public_jwk]).app())))
        http = httpx.AsyncClient(timeout=5.0)
        cleanup.callback(lambda: runner.run(http.aclose()))
        issuer = f"{base}/tenant"
        cache = JwksCache(issuer=issuer, jwks_url=f"{base}/jwks", http_client=http)
        cleanup.callback(lambda: runner.run(cache.close()))
        runner.run(cache.refresh())
        validator = TokenValidator(
            internal_tokens=InternalTokenRegistry(()),
            jwt_verifier=JwtVerifier(
                issuers={issuer: TrustedIssuer(issuer=issuer, jwks_url=f"{base}/jwks")},
                key_caches={issuer: cache},
            ),
            token_cache=VerifiedTokenCache(max_entries=1000, ttl_s=60),
            max_token_bytes=8192,
        )
        yield Harness(runner, validator, issuer, key)


async def _enter(cleanup: contextlib.ExitStack, runner: asyncio.Runner, context: Any) -> Any:
    value = await context.__aenter__()
    cleanup.callback(lambda: runner.run(context.__aexit__(None, None, None)))
    return value


@pytest.fixture(autouse=True)
def _no_error_lines() -> Iterator[None]:
    start = len(log_lines())
    yield
    errors = error_lines(log_lines()[start:])
    assert not errors, f"{len(errors)} ERROR line(s), e.g. {errors[0][:300]}"


# -- strategies ---------------------------------------------------------------------------------------


def _b64(data: str | bytes) -> str:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()  # NaN and infinities included: json.dumps writes them as NaN / Infinity
    | st.text(max_size=12)
)
json_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=16,
)
# JSON text as an attacker writes it: anything json.dumps makes, and what it never makes.
raw_json = st.one_of(
    json_values.map(json.dumps),
    st.sampled_from(
        [
            "NaN",
            "Infinity",
            "-Infinity",
            "1e400",
            "-1e400",
            "1e-400",
            "253402300800",
            "253402300799",
            str(10**30),
            "9" * 5000,
            '"\\ud800"',
            '"\\udfff\\ud800"',
            '"\\ud83d\\ude00"',
            '"\\u0000"',
            '"a\\r\\nb"',
            "[]",
            "{}",
            '""',
        ]
    ),
    st.integers(min_value=1, max_value=3000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(min_value=1, max_value=1100).map(lambda depth: '{"a":' * depth + "0" + "}" * depth),
    st.integers(min_value=1, max_value=2000).map(lambda depth: "[" * depth),  # never closed
)
# Values a claim plausibly holds (any Unicode text, lists of it, times around now, an `act`
# object): these reach acceptance, so what is accepted gets checked too.
plausible_json = st.one_of(
    st.text(max_size=20).map(json.dumps),
    st.lists(st.text(max_size=10), max_size=3).map(json.dumps),
    st.integers(min_value=-(10**6), max_value=10**6).map(lambda offset: str(int(time.time()) + offset)),
    st.dictionaries(st.sampled_from(["sub", "act"]), st.text(max_size=8), max_size=2).map(json.dumps),
)
CLAIM_NAMES = [
    "iss", "sub", "exp", "nbf", "iat", "aud", "scope", "scp", "act", "org_id", "sid", "role", "roles",
    "permissions", "entitlements", "client_id", "azp", "jti",
]  # fmt: skip
VALID_HEADER = json.dumps({"alg": "RS256", "typ": "JWT", "kid": KID})
HEADER_NAMES = ["alg", "kid", "typ", "crit", "b64", "jku", "x5u", "jwk", "x5c", "cty", "zip"]


def _object(entries: dict[str, str]) -> str:
    return "{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in entries.items()) + "}"


@st.composite
def claims_text(draw: st.DrawFn, issuer: str) -> str:
    """A payload: plausible claims of the trusted issuer, some of them replaced by fuzz."""
    expires_in = draw(st.integers(min_value=-100, max_value=3600))  # not the clock: hypothesis replays
    entries = {
        "iss": json.dumps(issuer),
        "sub": json.dumps(draw(st.sampled_from(["user_01FUZZ", "u"]))),
        "exp": str(int(time.time()) + expires_in),
    }
    names = st.sampled_from(CLAIM_NAMES) | st.text(max_size=8)
    fuzzed = draw(st.dictionaries(names, plausible_json | plausible_json | raw_json, max_size=4))
    entries.update(fuzzed)
    return _object(entries)


@st.composite
def header_text(draw: st.DrawFn) -> str:
    """A header: RS256 and the published kid, some entries replaced or added by fuzz."""
    entries = {"alg": '"RS256"', "typ": '"JWT"', "kid": json.dumps(KID)}
    entries.update(draw(st.dictionaries(st.sampled_from(HEADER_NAMES), raw_json, max_size=2)))
    return _object(entries)


def _sign(key: KeyPair, header: str, payload: str) -> str:
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    algorithm = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256)
    return f"{signing_input}.{_b64(algorithm.sign(signing_input.encode(), key.private_key))}"


# -- the properties -----------------------------------------------------------------------------------


@FUZZ
@given(
    token=st.text(max_size=300)
    | st.from_regex(r"\A[A-Za-z0-9_\-.= ]{0,400}\Z")
    | st.binary(max_size=300).map(lambda data: data.decode("latin-1"))  # an Envoy raw header value
    | st.text(st.characters(categories=["Cs", "Cc", "Ll", "Nd", "Pd"]), max_size=100)  # lone surrogates
)
def test_any_text_is_accepted_or_refused_with_a_documented_reason(harness: Harness, token: str) -> None:
    assert harness.outcome(token) != "accepted"


@FUZZ
@given(
    header=header_text() | raw_json | st.binary(max_size=64).map(lambda data: data.decode("latin-1")),
    payload=raw_json | st.binary(max_size=64).map(lambda data: data.decode("latin-1")),
    signature=st.binary(max_size=300),
)
def test_unsigned_jwt_shapes_are_refused_with_a_documented_reason(
    harness: Harness, header: str, payload: str, signature: bytes
) -> None:
    token = f"{_b64(header)}.{_b64(payload)}.{_b64(signature)}"

    assert harness.outcome(token) != "accepted"


@FUZZ
@given(data=st.data())
def test_tokens_signed_by_the_trusted_key_with_fuzzed_claims_never_fail_otherwise(
    harness: Harness, data: st.DataObject
) -> None:
    fuzz_header = data.draw(st.integers(min_value=0, max_value=3), label="fuzz header") == 0
    header = data.draw(header_text(), label="header") if fuzz_header else VALID_HEADER
    payload = data.draw(claims_text(harness.issuer), label="payload")

    harness.outcome(_sign(harness.key, header, payload))


@FUZZ
@given(data=st.data())
def test_mutations_of_a_valid_signed_token_are_refused_with_a_documented_reason(
    harness: Harness, data: st.DataObject
) -> None:
    now = int(time.time())
    token = _sign(harness.key, _object({"alg": '"RS256"', "kid": json.dumps(KID)}), _object(
        {"iss": json.dumps(harness.issuer), "sub": '"user_1"', "exp": str(now + 600), "org_id": '"org_1"'}
    ))  # fmt: skip
    assert harness.outcome(token) == "accepted"
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1), label="position")
    replacement = data.draw(
        st.text(alphabet="AZaz09-_.=+/ \x00é", min_size=0, max_size=3), label="replacement"
    )
    mutated = token[:position] + replacement + token[position + 1 :]

    outcome = harness.outcome(mutated)

    assert outcome != "accepted" or mutated == token or _same_bytes(mutated, token)


def _same_bytes(mutated: str, token: str) -> bool:
    """A mutation can leave a token valid only by re-spelling the same base64url bytes."""
    try:
        return [base64.urlsafe_b64decode(part + "==") for part in mutated.split(".")] == [
            base64.urlsafe_b64decode(part + "==") for part in token.split(".")
        ]
    except ValueError:
        return False
