"""AuthServiceTokenVerifier: FastMCP's TokenVerifier, answered by the central auth service.

Outcomes, and what the HTTP client sees:
- the auth service accepts the token: an `AtomsAccessToken` (200, or 403 `insufficient_scope`
  when a server-wide required scope is missing);
- it refuses the token (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT): None, so
  FastMCP answers 401 `invalid_token`;
- it cannot be reached, or cannot decide (UNAVAILABLE such as JWKS_UNAVAILABLE,
  DEADLINE_EXCEEDED, anything else): `AuthUnavailableError`, which `AtomsAuthProvider`
  answers with 503 and `Retry-After`.

A 401 makes an MCP client start an OAuth prompt and an outage must page someone, not log
users out, so nothing but a refusal of the token itself becomes None. Server-wide required
scopes are not sent to ValidateToken: the principal's scopes go into the AccessToken and
FastMCP's RequireAuthMiddleware answers 403 `insufficient_scope`, as the MCP spec wants.
The kit's AuthClient keeps positive answers briefly (never past the token's `exp`), so a
warm session costs no ValidateToken call per message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import grpc
from fastmcp.server.auth import AccessToken, TokenVerifier
from pydantic import ConfigDict, Field, SkipValidation
from starlette.authentication import AuthenticationError

from atoms_grpc.auth_client import AuthClient
from atoms_grpc.auth_errors import AuthServiceUnavailableError
from atoms_grpc.principal import Principal
from atoms_grpc.service_error import RemoteServiceError
from atoms_grpc.token_fingerprint import fingerprint_token

logger = logging.getLogger(__name__)

_REFUSALS = frozenset(
    {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INVALID_ARGUMENT}
)


class AuthUnavailableError(AuthenticationError):
    """The auth service could not decide; the client should retry after `retry_after_s` seconds.

    A Starlette `AuthenticationError`, so `AuthenticationMiddleware` hands it to the
    provider's `on_error` (which answers 503) instead of letting it become a 500.
    """

    def __init__(self, message: str, *, retry_after_s: int, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s
        self.reason = reason


class AtomsAccessToken(AccessToken):
    """FastMCP's AccessToken plus the typed principal the auth service returned."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    token: str = Field(repr=False)  # never in a repr, so never in a log line by accident
    principal: SkipValidation[Principal]


class AuthServiceTokenVerifier(TokenVerifier):
    """Accepts a bearer token only if `atoms.auth.v1.AuthService` says it is valid."""

    def __init__(
        self,
        *,
        auth_client: AuthClient,
        audience: str,
        timeout_s: float,
        retry_after_s: int,
        required_scopes: Sequence[str] = (),
    ) -> None:
        """Args:
        auth_client: the kit's client; the caller owns it and closes it.
        audience: this server's resource URL, passed to ValidateToken as `audience`.
        timeout_s: the budget of one validation, retries included.
        retry_after_s: the `Retry-After` to suggest when the auth service is unavailable.
        required_scopes: scopes every request needs; enforced by FastMCP (403), not sent upstream.

        Raises:
            ValueError: `audience` is empty or `timeout_s` is not positive.
        """
        if not audience:
            raise ValueError("audience must be this server's resource URL")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        super().__init__(required_scopes=list(required_scopes))
        self._auth_client = auth_client
        self._audience = audience
        self._timeout_s = timeout_s
        self._retry_after_s = retry_after_s

    async def verify_token(self, token: str) -> AtomsAccessToken | None:
        """Return the token's access info, or None if the auth service refused the token.

        Raises:
            AuthUnavailableError: the auth service could not be asked or could not decide.
        """
        try:
            principal = await self._auth_client.validate(
                token, audience=self._audience, timeout_s=self._timeout_s
            )
        except AuthServiceUnavailableError as err:
            raise self._unavailable(token, err.reason, err.message) from err
        except RemoteServiceError as err:
            if err.status_code in _REFUSALS:
                # INFO: refusals are routine (expiry, a stale tab); the auth service logs the detail.
                logger.info(
                    "token refused by the auth service: %s",
                    err.reason,
                    extra={"token_fingerprint": fingerprint_token(token), "reason": err.reason},
                )
                return None
            raise self._unavailable(token, err.reason, err.message) from err
        except ValueError as err:  # a principal of a kind this release does not know
            raise self._unavailable(token, "UNKNOWN_PRINCIPAL_KIND", str(err)) from err
        return access_token_for(principal, token)

    def _unavailable(self, token: str, reason: str, detail: str) -> AuthUnavailableError:
        # ERROR: nobody can sign in while this lasts; it must page someone.
        logger.error(
            "cannot validate a token: the auth service at %s is unavailable (%s: %s)",
            self._auth_client.target,
            reason,
            detail,
            extra={"token_fingerprint": fingerprint_token(token), "reason": reason},
        )
        return AuthUnavailableError(
            "the auth service is unavailable; retry later", retry_after_s=self._retry_after_s, reason=reason
        )


def access_token_for(principal: Principal, token: str) -> AtomsAccessToken:
    """Build the AccessToken FastMCP keeps for the request from the auth service's principal."""
    expires_at = None if principal.expires_at is None else int(principal.expires_at.timestamp())
    return AtomsAccessToken(
        token=token,
        client_id=principal.client_id or principal.subject,
        scopes=list(principal.scopes),
        expires_at=expires_at,
        subject=principal.subject,
        claims={
            "iss": principal.issuer,
            "sub": principal.subject,
            "org_id": principal.org_id,
            "role": principal.role,
            "permissions": list(principal.permissions),
            "kind": principal.kind.name.lower(),
        },
        principal=principal,
    )
