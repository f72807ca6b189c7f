"""JwtVerifier: checks an AuthKit / WorkOS JWT against its trusted issuer's published keys.

The orchestrator `verify` reads the unverified header and claims (`jwt_segments`, bounded
against hostile JSON) only to choose the issuer and the key; nothing from them is trusted
until PyJWT has checked the signature with an algorithm fixed by configuration. Header
parameters that name other keys (`jku`, `x5u`, `jwk`, `x5c`) are ignored: keys come from the
issuer's configured JWKS URL only. The claims then become a principal (`jwt_claims`), each
checked for type and range whoever signed them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.types import Options

from atoms_auth.errors import (
    InvalidAudienceError,
    InvalidClaimError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExpiredError,
    TokenNotYetValidError,
    UnsupportedAlgorithmError,
    UntrustedIssuerError,
)
from atoms_auth.jwks_cache import JwksCache, SigningKey
from atoms_auth.jwt_claims import check_time_claims, principal_from
from atoms_auth.jwt_decoder import JWT_DECODER
from atoms_auth.jwt_segments import decode_unverified
from atoms_auth.settings import SUPPORTED_ALGORITHMS, TrustedIssuer
from atoms_auth.token_cache import VerifiedToken
from atoms_grpc.principal import Principal

_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_REQUIRED_CLAIMS = ["exp", "iss", "sub"]
# A key shorter than the JWKS cache accepts can only come from a bug: refuse, never warn.
_DECODE_OPTIONS: Options = {
    "require": list(_REQUIRED_CLAIMS),
    "verify_aud": False,
    "enforce_minimum_key_length": True,
}
MAX_SHOWN_ISSUER_CHARS = 200
"""How much of an untrusted `iss` (as a Python literal) a refusal message and its log line show."""
_MAX_LISTED_ISSUERS = 10
_JSON_TYPES = {dict: "an object", list: "an array", bool: "a boolean", int: "a number", float: "a number"}


class JwtVerifier:
    """Verifies JWTs from a fixed set of trusted issuers."""

    def __init__(
        self,
        *,
        issuers: Mapping[str, TrustedIssuer],
        key_caches: Mapping[str, JwksCache],
        first_party_client_ids: frozenset[str] = frozenset(),
    ) -> None:
        """Args:
        issuers: trusted issuers by exact `iss` value.
        key_caches: the JwksCache of each issuer, by `iss` value.
        first_party_client_ids: OAuth clients whose tokens count as first-party sessions.
        """
        self._issuers = dict(issuers)
        self._key_caches = dict(key_caches)
        self._first_party_client_ids = first_party_client_ids
        self._trusted_issuers_text = _listed(sorted(self._issuers))

    async def verify(self, token: str) -> VerifiedToken:
        """Return the verified token or raise the AuthError that names what is wrong."""
        header, unverified_claims = decode_unverified(token)
        algorithm = _check_header_algorithm(header)
        issuer = self._trusted_issuer(unverified_claims)
        if algorithm not in issuer.algorithms:
            raise UnsupportedAlgorithmError(f"algorithm {algorithm} is not allowed for this issuer")
        check_time_claims(unverified_claims)  # before PyJWT's int() and our datetime see them
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise MalformedTokenError('token header "kid" must be a string')
        key = await self._key_caches[issuer.issuer].get_signing_key(kid)
        _check_key_matches_algorithm(key, algorithm)
        claims = _decode_verified(token, key, algorithm, issuer)
        principal = principal_from(claims)
        _check_issuer_audiences(principal, issuer)
        return VerifiedToken(
            principal=principal,
            first_party=issuer.first_party or principal.client_id in self._first_party_client_ids,
            expires_at=float(claims["exp"]),
        )

    def _trusted_issuer(self, claims: Mapping[str, Any]) -> TrustedIssuer:
        iss = claims.get("iss")
        if isinstance(iss, str):
            issuer = self._issuers.get(iss)  # exact match only: no prefix, no normalisation
            if issuer is not None:
                return issuer
            problem = f"token issuer {_shown_value(iss)} is not trusted"
        elif iss is None:
            problem = 'token has no "iss" claim'
        else:
            problem = f'token claim "iss" must be a string, not {_JSON_TYPES.get(type(iss), "null")}'
        # Name what the token says and what is configured, so an operator knows what to change.
        raise UntrustedIssuerError(f"{problem}; trusted issuers: {self._trusted_issuers_text}")


def _shown_value(value: str) -> str:
    """Return `value` as a Python literal (control characters escaped), cut to MAX_SHOWN_ISSUER_CHARS."""
    literal = repr(value[: MAX_SHOWN_ISSUER_CHARS + 1])
    if len(value) > MAX_SHOWN_ISSUER_CHARS or len(literal) > MAX_SHOWN_ISSUER_CHARS:
        return literal[: MAX_SHOWN_ISSUER_CHARS - 3] + "..."
    return literal


def _listed(issuers: list[str]) -> str:
    if not issuers:
        return "none"
    shown = ", ".join(_shown_value(issuer) for issuer in issuers[:_MAX_LISTED_ISSUERS])
    more = len(issuers) - _MAX_LISTED_ISSUERS
    return f"{shown} and {more} more" if more > 0 else shown


def _check_header_algorithm(header: Mapping[str, Any]) -> str:
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in SUPPORTED_ALGORITHMS:
        # none, HS* (an HMAC "signed" with a public key), and anything unknown end here.
        raise UnsupportedAlgorithmError(f"algorithm {str(algorithm)[:16]!r} is not accepted")
    return algorithm


def _check_key_matches_algorithm(key: SigningKey, algorithm: str) -> None:
    if key.declared_alg is not None and key.declared_alg != algorithm:
        raise UnsupportedAlgorithmError("token algorithm does not match the signing key's algorithm")
    public_key = key.jwk.key
    if algorithm[:2] in ("RS", "PS"):
        matches = isinstance(public_key, rsa.RSAPublicKey)
    elif algorithm in _EC_CURVES:
        matches = isinstance(public_key, ec.EllipticCurvePublicKey) and (
            public_key.curve.name == _EC_CURVES[algorithm]
        )
    else:
        matches = isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    if not matches:
        raise UnsupportedAlgorithmError("token algorithm does not match the signing key's type")


def _decode_verified(token: str, key: SigningKey, algorithm: str, issuer: TrustedIssuer) -> dict[str, Any]:
    try:
        return JWT_DECODER.decode(
            token,
            key=key.jwk.key,
            algorithms=[algorithm],
            issuer=issuer.issuer,
            leeway=issuer.leeway_s,
            options=_DECODE_OPTIONS,
        )
    except jwt.ExpiredSignatureError as err:
        raise TokenExpiredError("token has expired") from err
    except jwt.ImmatureSignatureError as err:
        raise TokenNotYetValidError("token is not valid yet (nbf or iat is in the future)") from err
    except jwt.MissingRequiredClaimError as err:
        raise InvalidClaimError(err.claim) from err
    except jwt.InvalidIssuedAtError as err:
        raise InvalidClaimError("iat", "must be a number") from err
    except jwt.exceptions.InvalidSubjectError as err:
        raise InvalidClaimError("sub", "must be a non-empty string") from err
    except jwt.exceptions.InvalidJTIError as err:
        raise InvalidClaimError("jti", "must be a string") from err
    except jwt.InvalidIssuerError as err:
        raise UntrustedIssuerError("token issuer is not trusted") from err
    except jwt.InvalidSignatureError as err:
        raise InvalidSignatureError("token signature does not verify") from err
    except jwt.InvalidKeyError as err:
        raise UnsupportedAlgorithmError("the signing key is not usable for the token's algorithm") from err
    except jwt.InvalidAlgorithmError as err:
        raise UnsupportedAlgorithmError("token algorithm does not match the signing key") from err
    except jwt.DecodeError as err:
        raise MalformedTokenError(_decode_error_message(err)) from err
    except jwt.InvalidTokenError as err:
        raise MalformedTokenError("token header or claims are malformed") from err


def _decode_error_message(err: jwt.DecodeError) -> str:
    text = str(err)
    for claim in ("exp", "nbf", "iat"):
        if f"({claim})" in text or f"{claim} claim" in text:
            return f'token claim "{claim}" must be a number'
    return "token could not be decoded"


def _check_issuer_audiences(principal: Principal, issuer: TrustedIssuer) -> None:
    if issuer.audiences and not set(issuer.audiences) & set(principal.audiences):
        raise InvalidAudienceError("token audience is not one this issuer's tokens are accepted for")
