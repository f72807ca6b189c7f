"""JwtVerifier: checks an AuthKit / WorkOS JWT against its trusted issuer's published keys.

The orchestrator `verify` reads the unverified header and claims only to choose the issuer
and the key; nothing from them is trusted until PyJWT has checked the signature with an
algorithm fixed by configuration. Header parameters that name other keys (`jku`, `x5u`,
`jwk`, `x5c`) are ignored: keys come from the issuer's configured JWKS URL only.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from services.atoms_grpc.principal import Principal, PrincipalKind
from services.auth.errors import (
    InvalidAudienceError,
    InvalidClaimError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExpiredError,
    TokenNotYetValidError,
    UnsupportedAlgorithmError,
    UntrustedIssuerError,
)
from services.auth.jwks_cache import JwksCache, SigningKey
from services.auth.jwt_decoder import JWT_DECODER
from services.auth.settings import SUPPORTED_ALGORITHMS, TrustedIssuer
from services.auth.token_cache import VerifiedToken

_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_SIGNATURE = re.compile(r"^[A-Za-z0-9_-]*$")
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_REQUIRED_CLAIMS = ["exp", "iss", "sub"]


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

    async def verify(self, token: str) -> VerifiedToken:
        """Return the verified token or raise the AuthError that names what is wrong."""
        header, unverified_claims = _decode_unverified(token)
        algorithm = _check_header_algorithm(header)
        issuer = self._trusted_issuer(unverified_claims)
        if algorithm not in issuer.algorithms:
            raise UnsupportedAlgorithmError(f"algorithm {algorithm} is not allowed for this issuer")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise MalformedTokenError('token header "kid" must be a string')
        key = await self._key_caches[issuer.issuer].get_signing_key(kid)
        _check_key_matches_algorithm(key, algorithm)
        claims = _decode_verified(token, key, algorithm, issuer)
        principal = _principal_from(claims)
        _check_issuer_audiences(principal, issuer)
        return VerifiedToken(
            principal=principal,
            first_party=issuer.first_party or principal.client_id in self._first_party_client_ids,
            expires_at=float(claims["exp"]),
        )

    def _trusted_issuer(self, claims: Mapping[str, Any]) -> TrustedIssuer:
        iss = claims.get("iss")
        if not isinstance(iss, str) or not iss:
            raise UntrustedIssuerError('token has no "iss" claim')
        issuer = self._issuers.get(iss)  # exact match only: no prefix, no normalisation
        if issuer is None:
            raise UntrustedIssuerError("token issuer is not trusted")
        return issuer


def _decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    segments = token.split(".")
    if len(segments) != 3:
        raise MalformedTokenError(
            f"token has {len(segments)} segment(s); a JWT has 3 and it is not a known internal token"
        )
    # The signature may be empty here (alg "none"); the algorithm check refuses it next.
    if not (_SEGMENT.match(segments[0]) and _SEGMENT.match(segments[1])) or not _SIGNATURE.match(segments[2]):
        raise MalformedTokenError("token segments are not base64url")
    return _json_segment(segments[0], "header"), _json_segment(segments[1], "payload")


def _json_segment(segment: str, name: str) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError) as err:
        raise MalformedTokenError(f"token {name} is not base64url-encoded JSON") from err
    if not isinstance(decoded, dict):
        raise MalformedTokenError(f"token {name} is not a JSON object")
    return decoded


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
            options={"require": _REQUIRED_CLAIMS, "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as err:
        raise TokenExpiredError("token has expired") from err
    except jwt.ImmatureSignatureError as err:
        raise TokenNotYetValidError("token is not valid yet (nbf or iat is in the future)") from err
    except jwt.MissingRequiredClaimError as err:
        raise InvalidClaimError(err.claim) from err
    except jwt.InvalidIssuedAtError as err:
        raise InvalidClaimError("iat", "must be a number") from err
    except jwt.InvalidIssuerError as err:
        raise UntrustedIssuerError("token issuer is not trusted") from err
    except jwt.InvalidSignatureError as err:
        raise InvalidSignatureError("token signature does not verify") from err
    except (jwt.InvalidAlgorithmError, jwt.InvalidKeyError) as err:
        raise UnsupportedAlgorithmError("token algorithm does not match the signing key") from err
    except jwt.DecodeError as err:
        raise MalformedTokenError(_decode_error_message(err)) from err
    except jwt.InvalidTokenError as err:
        raise MalformedTokenError("token claims are malformed") from err


def _decode_error_message(err: jwt.DecodeError) -> str:
    text = str(err)
    for claim in ("exp", "nbf", "iat"):
        if f"({claim})" in text or f"{claim} claim" in text:
            return f'token claim "{claim}" must be a number'
    return "token could not be decoded"


def _principal_from(claims: Mapping[str, Any]) -> Principal:
    return Principal(
        kind=PrincipalKind.USER,
        subject=_text(claims, "sub"),
        issuer=_text(claims, "iss"),
        org_id=_text(claims, "org_id"),
        session_id=_text(claims, "sid"),
        role=_text(claims, "role"),
        roles=_text_list(claims, "roles"),
        permissions=_text_list(claims, "permissions"),
        entitlements=_text_list(claims, "entitlements"),
        scopes=_scopes(claims),
        client_id=_text(claims, "client_id") or _text(claims, "azp"),
        audiences=_text_list(claims, "aud"),
        token_id=_text(claims, "jti"),
        actor=_actor(claims),
        expires_at=_timestamp(claims["exp"]),
    )


def _check_issuer_audiences(principal: Principal, issuer: TrustedIssuer) -> None:
    if issuer.audiences and not set(issuer.audiences) & set(principal.audiences):
        raise InvalidAudienceError("token audience is not one this issuer's tokens are accepted for")


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidClaimError(name, "must be a string")
    return value


def _text_list(claims: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = claims.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise InvalidClaimError(name, "must be a string or a list of strings")


def _scopes(claims: Mapping[str, Any]) -> tuple[str, ...]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return tuple(scope.split())
    if scope is not None:
        raise InvalidClaimError("scope", "must be a space-separated string")
    scp = claims.get("scp")
    if isinstance(scp, str):
        return tuple(scp.split())
    return _text_list(claims, "scp")


def _actor(claims: Mapping[str, Any]) -> str:
    act = claims.get("act")
    if act is None:
        return ""
    if not isinstance(act, dict) or not isinstance(act.get("sub", ""), str):
        raise InvalidClaimError("act", 'must be an object with a string "sub"')
    return str(act.get("sub", ""))


def _timestamp(value: float) -> datetime:
    return datetime.fromtimestamp(float(value), UTC)
