"""Why a token was refused: one class per documented ErrorReason of `atoms.auth.v1`.

Tree:
    AuthError (ServiceError, domain auth.atoms.internal)
      +-- MissingTokenError, MalformedTokenError, TokenExpiredError, TokenNotYetValidError,
      |   InvalidSignatureError, UnknownSigningKeyError, UntrustedIssuerError,
      |   InvalidAudienceError, UnsupportedAlgorithmError, InvalidClaimError   UNAUTHENTICATED
      +-- InsufficientScopeError                                               PERMISSION_DENIED
      +-- TokenTooLargeError, InvalidRequestError                              INVALID_ARGUMENT
      +-- JwksUnavailableError                                                 UNAVAILABLE
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from atoms_grpc.service_error import ServiceError

AUTH_ERROR_DOMAIN = "auth.atoms.internal"


class AuthError(ServiceError):
    """A token or request the auth service refuses."""

    status_code = grpc.StatusCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"
    domain = AUTH_ERROR_DOMAIN


class MissingTokenError(AuthError):
    """No token was given."""

    reason = "MISSING_TOKEN"


class MalformedTokenError(AuthError):
    """Neither a known internal token nor a well-formed JWT (segments, base64url, bounded JSON)."""

    reason = "MALFORMED_TOKEN"


class TokenExpiredError(AuthError):
    """`exp` is in the past, beyond the leeway."""

    reason = "TOKEN_EXPIRED"


class TokenNotYetValidError(AuthError):
    """`nbf` or `iat` is in the future, beyond the leeway."""

    reason = "TOKEN_NOT_YET_VALID"


class InvalidSignatureError(AuthError):
    """The signature does not verify with the issuer's key."""

    reason = "INVALID_SIGNATURE"


class UnknownSigningKeyError(AuthError):
    """No published key matches the token's `kid`."""

    reason = "UNKNOWN_SIGNING_KEY"


class UntrustedIssuerError(AuthError):
    """`iss` is missing or not exactly one of the trusted issuers."""

    reason = "UNTRUSTED_ISSUER"


class InvalidAudienceError(AuthError):
    """`aud` does not contain the audience asked for."""

    reason = "INVALID_AUDIENCE"


class UnsupportedAlgorithmError(AuthError):
    """`alg` is none, HMAC, unknown, not allowed for the issuer, or not the key's type."""

    reason = "UNSUPPORTED_ALGORITHM"


class InvalidClaimError(AuthError):
    """A claim is missing (a required one), has the wrong type, or is out of range; `claim` names it."""

    reason = "INVALID_CLAIM"

    def __init__(self, claim: str, problem: str = "is missing") -> None:
        super().__init__(f'token claim "{claim}" {problem}', metadata={"claim": claim})
        self.claim = claim


class InsufficientScopeError(AuthError):
    """The token is valid but lacks required scopes."""

    status_code = grpc.StatusCode.PERMISSION_DENIED
    reason = "INSUFFICIENT_SCOPE"

    def __init__(self, missing: Sequence[str]) -> None:
        super().__init__(
            f"token lacks required scopes: {' '.join(missing)}",
            metadata={"missing_scopes": " ".join(missing)},
        )
        self.missing_scopes = tuple(missing)


class TokenTooLargeError(AuthError):
    """The token is larger than the configured limit."""

    status_code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "TOKEN_TOO_LARGE"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"token is {size} bytes; the limit is {limit}", metadata={"limit_bytes": str(limit)})


class InvalidRequestError(AuthError):
    """The request itself is malformed (scopes or audience out of bounds)."""

    status_code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_REQUEST"


class JwksUnavailableError(AuthError):
    """No signing keys can be had for the issuer: fail closed, the caller may retry."""

    status_code = grpc.StatusCode.UNAVAILABLE
    reason = "JWKS_UNAVAILABLE"
