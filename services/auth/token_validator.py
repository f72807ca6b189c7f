"""TokenValidator: the auth service's decision, in the order of the seed.

1. bound the request (token size, scopes, audience);
2. a static internal token, compared in constant time;
3. otherwise a JWT: the verified-token cache, else full verification;
4. the audience policy, then the required scopes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from services.atoms_grpc.principal import Principal
from services.atoms_grpc.token_fingerprint import fingerprint_token, strip_bearer
from services.auth import metrics
from services.auth.errors import (
    AuthError,
    InsufficientScopeError,
    InvalidAudienceError,
    InvalidRequestError,
    MissingTokenError,
    TokenTooLargeError,
)
from services.auth.internal_tokens import InternalTokenRegistry
from services.auth.jwt_verifier import JwtVerifier
from services.auth.token_cache import VerifiedToken, VerifiedTokenCache

logger = logging.getLogger(__name__)

MAX_REQUIRED_SCOPES = 32
MAX_SCOPE_BYTES = 256
MAX_AUDIENCE_BYTES = 2048


@dataclass(frozen=True, slots=True)
class ValidationRequest:
    """What a caller asks: is this token valid, for these scopes and this audience."""

    token: str
    required_scopes: Sequence[str] = ()
    audience: str = ""


class TokenValidator:
    """Decides whether a token is valid and returns its principal."""

    def __init__(
        self,
        *,
        internal_tokens: InternalTokenRegistry,
        jwt_verifier: JwtVerifier,
        token_cache: VerifiedTokenCache,
        max_token_bytes: int,
    ) -> None:
        self._internal_tokens = internal_tokens
        self._jwt_verifier = jwt_verifier
        self._token_cache = token_cache
        self._max_token_bytes = max_token_bytes

    async def validate(self, request: ValidationRequest) -> Principal:
        """Return the principal, or raise the AuthError that says why not."""
        token = ""
        try:
            _check_request_bounds(request)
            token = self._extract_token(request.token)
            verified = await self._verify(token)
            _check_audience(verified, request.audience)
            missing = verified.principal.missing_scopes(list(request.required_scopes))
            if missing:
                raise InsufficientScopeError(missing)
        except AuthError as err:
            metrics.VALIDATIONS.labels("none", err.reason).inc()
            _log_refusal(err, token)
            raise
        kind = verified.principal.kind.name.lower()
        metrics.VALIDATIONS.labels(kind, "ok").inc()
        return verified.principal

    def _extract_token(self, raw: str) -> str:
        if len(raw) > self._max_token_bytes + 16:
            raise TokenTooLargeError(len(raw.encode("utf-8", "surrogatepass")), self._max_token_bytes)
        token = strip_bearer(raw)
        if not token:
            raise MissingTokenError("no token was given")
        size = len(token.encode("utf-8", "surrogatepass"))
        if size > self._max_token_bytes:
            raise TokenTooLargeError(size, self._max_token_bytes)
        return token

    async def _verify(self, token: str) -> VerifiedToken:
        internal = self._internal_tokens.match(token)
        if internal is not None:
            return VerifiedToken(principal=internal, first_party=True, expires_at=float("inf"))
        key = self._token_cache.key_for(token)
        cached = self._token_cache.get(key)
        if cached is not None:
            return cached
        verified = await self._jwt_verifier.verify(token)
        self._token_cache.put(key, verified)
        return verified


def _check_request_bounds(request: ValidationRequest) -> None:
    if len(request.required_scopes) > MAX_REQUIRED_SCOPES:
        raise InvalidRequestError(f"at most {MAX_REQUIRED_SCOPES} required scopes may be asked for")
    if any(len(scope.encode()) > MAX_SCOPE_BYTES or not scope for scope in request.required_scopes):
        raise InvalidRequestError(f"each required scope must be 1 to {MAX_SCOPE_BYTES} bytes")
    if len(request.audience.encode()) > MAX_AUDIENCE_BYTES:
        raise InvalidRequestError(f"audience must be at most {MAX_AUDIENCE_BYTES} bytes")


def _check_audience(verified: VerifiedToken, audience: str) -> None:
    if not audience:
        return
    audiences = verified.principal.audiences
    if audience in audiences:
        return
    if verified.first_party and not audiences:
        return  # first-party session tokens (AuthKit) carry no aud
    raise InvalidAudienceError("token is not issued for the requested audience")


def _log_refusal(err: AuthError, token: str) -> None:
    # Expiry and missing tokens are routine: INFO. Everything else may be an attack or a
    # misconfiguration: WARNING. Never the token itself, only its fingerprint.
    level = logging.INFO if err.reason in ("TOKEN_EXPIRED", "MISSING_TOKEN") else logging.WARNING
    logger.log(
        level,
        "token refused: %s (%s)",
        err.reason,
        err.message,
        extra={"token_fingerprint": fingerprint_token(token) if token else "", "reason": err.reason},
    )
