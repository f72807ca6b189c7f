"""AtomsAuthProvider: FastMCP's RemoteAuthProvider, with an auth outage answered as 503.

What RemoteAuthProvider already gives, unchanged:
- `/.well-known/oauth-protected-resource/<path>` (RFC 9728) naming AuthKit as the
  authorization server, so a client without a token can find where to sign in;
- 401 with `WWW-Authenticate: Bearer ... resource_metadata="..."` for a missing token, and
  with `error="invalid_token"` when the verifier returns None;
- 403 `insufficient_scope` when the AccessToken lacks a server-wide required scope.

The one extension point: `get_middleware()`. FastMCP installs Starlette's
`AuthenticationMiddleware` with its default `on_error`, which would turn any
`AuthenticationError` into a 400, and any other exception from the verifier into a 500.
Ours takes FastMCP's own middleware list (`super()`) and gives its authentication middleware
an `on_error` that answers the verifier's `AuthUnavailableError` with 503 and `Retry-After`;
if a FastMCP release stops installing that middleware, the server refuses to start.
"""

from __future__ import annotations

import logging

from fastmcp.server.auth import RemoteAuthProvider
from pydantic import AnyHttpUrl, ConfigDict, TypeAdapter
from starlette.authentication import AuthenticationError
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from atoms_grpc.http_metrics import record_error_reason
from atoms_mcp.token_verifier import AuthServiceTokenVerifier, AuthUnavailableError

logger = logging.getLogger(__name__)

RESOURCE_NAME = "Atoms MCP"
_ISSUER_URL = TypeAdapter(AnyHttpUrl, config=ConfigDict(url_preserve_empty_path=True))


class AtomsAuthProvider(RemoteAuthProvider):
    """Protected-resource metadata from RemoteAuthProvider; 503, not 401 or 500, when auth is down."""

    def __init__(
        self, *, token_verifier: AuthServiceTokenVerifier, authkit_domain: str, base_url: str
    ) -> None:
        """Args:
        token_verifier: asks the auth service; carries the server-wide required scopes.
        authkit_domain: the authorization server clients are sent to, e.g. https://x.authkit.app.
        base_url: this server's public origin, e.g. https://mcp.atoms.tech.
        """
        super().__init__(
            token_verifier=token_verifier,
            authorization_servers=[issuer_identifier(authkit_domain)],
            base_url=base_url,
            resource_name=RESOURCE_NAME,
        )

    def get_middleware(self) -> list[Middleware]:
        """Return FastMCP's middleware, its authentication middleware with an `on_error` that knows 503.

        Raises:
            RuntimeError: FastMCP no longer installs Starlette's AuthenticationMiddleware, so
                this provider cannot answer an auth outage correctly (fail closed: no server).
        """
        middleware: list[Middleware] = []
        found = False
        for item in super().get_middleware():
            cls, args, kwargs = item
            if cls is AuthenticationMiddleware:
                found = True
                item = Middleware(cls, *args, **{**kwargs, "on_error": answer_authentication_error})
            middleware.append(item)
        if not found:
            raise RuntimeError("FastMCP's auth provider no longer installs AuthenticationMiddleware")
        return middleware


def issuer_identifier(authkit_domain: str) -> AnyHttpUrl:
    """The authorization server's issuer exactly as its own metadata states it (no added `/`).

    RFC 8414 3.3 and RFC 9728: a client compares the `issuer` of the authorization server
    metadata with the entry of `authorization_servers` as plain strings. A default AnyHttpUrl
    renders `https://x.authkit.app` as `https://x.authkit.app/`, which the official Python SDK
    then refuses as an issuer mismatch, ending the OAuth flow before registration.
    """
    return _ISSUER_URL.validate_python(authkit_domain.rstrip("/"))


def answer_authentication_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    """Answer an authentication that could not complete.

    Returns:
        503 with `Retry-After` for `AuthUnavailableError` (the client keeps its token and
        retries; no OAuth prompt); 400 `invalid_request` for any other AuthenticationError.
    """
    if isinstance(exc, AuthUnavailableError):
        record_error_reason(conn.scope, "AUTH_SERVICE_UNAVAILABLE")
        return JSONResponse(
            {"error": "temporarily_unavailable", "error_description": exc.message},
            status_code=503,
            headers={"Retry-After": str(exc.retry_after_s), "Cache-Control": "no-store"},
        )
    logger.warning("authentication failed before validation on %s: %s", conn.url.path, exc)
    record_error_reason(conn.scope, "MALFORMED_TOKEN")
    return JSONResponse({"error": "invalid_request", "error_description": "malformed credentials"}, 400)
