"""TokenValidator: the auth service's decision, in the order of the AuthKit integration plan.

1. bound the request (token size, scopes, audience);
2. a static internal token, compared in constant time;
3. otherwise a JWT: the verified-token cache, else full verification;
4. the audience policy, then the required scopes.

The token's SHA-256 digest is computed once: it is what the internal tokens are compared
with and the verified-token cache's key.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import Counter

from atoms_auth import metrics
from atoms_auth.errors import (
    AuthError,
    InsufficientScopeError,
    InvalidAudienceError,
    InvalidRequestError,
    MissingTokenError,
    TokenTooLargeError,
)
from atoms_auth.internal_tokens import InternalTokenRegistry, token_digest
from atoms_auth.jwt_verifier import JwtVerifier
from atoms_auth.token_cache import AcceptedToken, VerifiedTokenCache
from atoms_grpc.line_budget import LineBudget
from atoms_grpc.principal import Principal
from atoms_grpc.token_fingerprint import fingerprint_digest, fingerprint_token, strip_bearer
from atoms_grpc.tracing import (
    AUTH_TOKEN_CACHE,
    PRINCIPAL_KIND,
    TOKEN_FINGERPRINT,
    annotate_span,
    tracing_enabled,
)

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


@dataclass(frozen=True, slots=True)
class _Acceptance:
    """An accepted token; `principal` is set when it is at hand (internal token, fresh verification)."""

    accepted: AcceptedToken
    principal: Principal | None
    kind: str
    cache: str  # the verified-token cache: "hit", "miss", or "none" (internal tokens never go there)


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
        self._outcomes: dict[tuple[str, str], Counter] = {}
        # A flood of bad tokens must not become a flood of log lines: each refusal reason
        # gets a budget; the metrics still count every refusal.
        self._refusal_lines = LineBudget()

    async def validate(self, request: ValidationRequest) -> Principal:
        """Return the principal, or raise the AuthError that says why not."""
        acceptance = await self._accept(request)
        return acceptance.principal or acceptance.accepted.principal()

    async def validate_to_wire(self, request: ValidationRequest) -> bytes:
        """Like `validate`, but return the principal as a serialised `atoms.auth.v1.Principal`.

        A cache hit is answered from the cached bytes, without rebuilding the message.
        """
        return (await self._accept(request)).accepted.principal_wire

    async def _accept(self, request: ValidationRequest) -> _Acceptance:
        token = ""
        try:
            _check_request_bounds(request)
            token = self._extract_token(request.token)
            digest = token_digest(token)
            acceptance = await self._verify(token, digest)
            _check_audience(acceptance.accepted, request.audience)
            if request.required_scopes:
                _check_scopes(acceptance.accepted, request.required_scopes)
        except AuthError as err:
            self._count("none", err.reason)
            self._log_refusal(err, token)
            if tracing_enabled() and token:
                annotate_span({TOKEN_FINGERPRINT: fingerprint_token(token)})
            raise
        self._count(acceptance.kind, "ok")
        if tracing_enabled():
            annotate_span(
                {
                    TOKEN_FINGERPRINT: fingerprint_digest(digest),
                    PRINCIPAL_KIND: acceptance.kind,
                    AUTH_TOKEN_CACHE: acceptance.cache,
                }
            )
        return acceptance

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

    async def _verify(self, token: str, digest: bytes) -> _Acceptance:
        internal = self._internal_tokens.match_digest(digest)
        if internal is not None:
            return _Acceptance(internal.accepted, internal.principal, "internal", "none")
        cached = self._token_cache.get(digest)
        if cached is not None:
            return _Acceptance(cached, None, "user", "hit")
        verified = await self._jwt_verifier.verify(token)
        return _Acceptance(self._token_cache.put(digest, verified), verified.principal, "user", "miss")

    def _count(self, kind: str, outcome: str) -> None:
        counter = self._outcomes.get((kind, outcome))
        if counter is None:
            # Kinds and outcomes (documented reasons) are a small fixed set.
            counter = self._outcomes[(kind, outcome)] = metrics.VALIDATIONS.labels(kind, outcome)
        counter.inc()

    def _log_refusal(self, err: AuthError, token: str) -> None:
        # Expiry and missing tokens are routine: INFO. Everything else may be an attack or a
        # misconfiguration: WARNING. Never the token itself, only its fingerprint.
        level = logging.INFO if err.reason in ("TOKEN_EXPIRED", "MISSING_TOKEN") else logging.WARNING
        if not logger.isEnabledFor(level):
            return
        suppressed = self._refusal_lines.take(err.reason)
        if suppressed is None:
            return
        extra: dict[str, object] = {
            "token_fingerprint": fingerprint_token(token) if token else "",
            "reason": err.reason,
        }
        if suppressed:
            extra["suppressed"] = suppressed
        logger.log(level, "token refused: %s (%s)", err.reason, err.message, extra=extra)


def _check_request_bounds(request: ValidationRequest) -> None:
    scopes = request.required_scopes
    if scopes:
        if len(scopes) > MAX_REQUIRED_SCOPES:
            raise InvalidRequestError(f"at most {MAX_REQUIRED_SCOPES} required scopes may be asked for")
        if any(len(scope.encode()) > MAX_SCOPE_BYTES or not scope for scope in scopes):
            raise InvalidRequestError(f"each required scope must be 1 to {MAX_SCOPE_BYTES} bytes")
    # A str of n characters encodes to at most 4n bytes: only long ones need encoding.
    audience = request.audience
    if len(audience) * 4 > MAX_AUDIENCE_BYTES and len(audience.encode()) > MAX_AUDIENCE_BYTES:
        raise InvalidRequestError(f"audience must be at most {MAX_AUDIENCE_BYTES} bytes")


def _check_audience(accepted: AcceptedToken, audience: str) -> None:
    if not audience:
        return
    audiences = accepted.audiences
    if audience in audiences:
        return
    if accepted.first_party and not audiences:
        return  # first-party session tokens (AuthKit) carry no aud
    raise InvalidAudienceError("token is not issued for the requested audience")


def _check_scopes(accepted: AcceptedToken, required: Sequence[str]) -> None:
    held = set(accepted.scopes)
    missing = tuple(scope for scope in required if scope not in held)
    if missing:
        raise InsufficientScopeError(missing)
