"""build_emulator_app: the emulator's HTTP surface, shaped like AuthKit's and WorkOS's.

Served:
    GET  /.well-known/openid-configuration      OIDC discovery
    GET  /.well-known/oauth-authorization-server RFC 8414 metadata (MCP clients ask for this one)
    GET  /oauth2/jwks                            AuthKit JWKS
    GET  /sso/jwks/{client_id}                   WorkOS JWKS; every client id gets the same keys
    the sign-in endpoints of `sign_in_routes`    authorize (login page), authenticate, token,
                                                 registration, logout
    POST /dev/token                              mint a token (dev only, no authentication)
    POST /dev/rotate                             rotate the signing key (dev only)
    GET  /dev/stats                              sign-in counts: authorize, sign-ins, grants (dev only)
    GET  /health
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atoms_devtools.authkit_emulator.client_registry import ClientRegistry, OAuthClient, application_client
from atoms_devtools.authkit_emulator.dev_requests import (
    InvalidDevRequestError,
    parse_rotation_request,
    parse_token_request,
)
from atoms_devtools.authkit_emulator.directory import DevDirectory
from atoms_devtools.authkit_emulator.emulator_defaults import (
    DEFAULT_ACCESS_TOKEN_TTL_S,
    DEFAULT_API_KEY,
    DEFAULT_CLIENT_ID,
    DEFAULT_JWKS_MAX_AGE_S,
)
from atoms_devtools.authkit_emulator.key_store import EmulatorKeyStore, KeyFileError, NoSigningKeyError
from atoms_devtools.authkit_emulator.login_page import SIGN_IN_PATH
from atoms_devtools.authkit_emulator.oauth_errors import OAuthError
from atoms_devtools.authkit_emulator.request_fields import read_body
from atoms_devtools.authkit_emulator.sign_in import SignIn
from atoms_devtools.authkit_emulator.sign_in_routes import SignInEndpoints, oauth_error_response
from atoms_devtools.authkit_emulator.token_minting import MAX_TTL_S, mint_token

logger = logging.getLogger(__name__)


def discovery_document(issuer: str) -> dict[str, Any]:
    """Return the OpenID / OAuth authorization server metadata for `issuer` (no trailing slash)."""
    return {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/oauth2/jwks",
        "authorization_endpoint": f"{issuer}/oauth2/authorize",
        "token_endpoint": f"{issuer}/oauth2/token",
        "registration_endpoint": f"{issuer}/oauth2/register",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
    }


def build_emulator_app(
    store: EmulatorKeyStore,
    *,
    issuer: str,
    jwks_max_age_s: int = DEFAULT_JWKS_MAX_AGE_S,
    directory: DevDirectory | None = None,
    application: OAuthClient | None = None,
    access_token_ttl_s: int = DEFAULT_ACCESS_TOKEN_TTL_S,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """Build the emulator's ASGI app.

    Args:
        store: the signing keys; shared with `atoms dev` commands through its file.
        issuer: the emulator's base URL as clients reach it, e.g. `http://127.0.0.1:8100`. It is
            the `iss` of minted tokens and the prefix of every advertised URL.
        jwks_max_age_s: the `max-age` of the JWKS responses' `Cache-Control`.
        directory: the dev users; an in-memory directory of the default users when None.
        application: the WorkOS application (client id, API key, redirect URIs); `client_dev`
            with the documented development API key when None.
        access_token_ttl_s: lifetime of signed-in users' access tokens, 1 to 86400 seconds.
        clock: epoch seconds for codes, sessions and tokens of the sign-in flows; tests inject one.

    Returns:
        The Starlette application.

    Raises:
        ValueError: `issuer` is not an http(s) URL, `jwks_max_age_s` is negative, or
            `access_token_ttl_s` is out of range.
    """
    base = issuer.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"issuer must be an http(s) URL, got {issuer!r}")
    if jwks_max_age_s < 0:
        raise ValueError(f"jwks_max_age_s must be >= 0, got {jwks_max_age_s}")
    if not 0 < access_token_ttl_s <= MAX_TTL_S:
        raise ValueError(f"access_token_ttl_s must be between 1 and {MAX_TTL_S}, got {access_token_ttl_s}")
    endpoints = _Endpoints(store=store, issuer=base, jwks_max_age_s=jwks_max_age_s)
    sign_in = SignInEndpoints(
        SignIn(
            keys=store,
            directory=directory or DevDirectory(clock=clock),
            clients=ClientRegistry(
                application=application
                or application_client(client_id=DEFAULT_CLIENT_ID, api_key=DEFAULT_API_KEY),
                clock=clock,
            ),
            issuer=base,
            access_token_ttl_s=access_token_ttl_s,
            clock=clock,
        )
    )
    routes = [
        Route("/.well-known/openid-configuration", endpoints.discovery, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", endpoints.discovery, methods=["GET"]),
        Route("/oauth2/jwks", endpoints.jwks, methods=["GET"]),
        Route("/sso/jwks/{client_id}", endpoints.jwks, methods=["GET"]),
        Route("/user_management/authorize", sign_in.workos_authorize, methods=["GET"]),
        Route("/oauth2/authorize", sign_in.oauth_authorize, methods=["GET"]),
        Route(SIGN_IN_PATH, sign_in.submit_login, methods=["POST"]),
        Route("/user_management/authenticate", sign_in.workos_authenticate, methods=["POST"]),
        Route("/oauth2/token", sign_in.oauth_token, methods=["POST"]),
        Route("/oauth2/register", sign_in.register, methods=["POST"]),
        Route("/user_management/sessions/logout", sign_in.logout, methods=["GET"]),
        Route("/dev/token", endpoints.dev_token, methods=["POST"]),
        Route("/dev/rotate", endpoints.dev_rotate, methods=["POST"]),
        Route("/dev/stats", sign_in.dev_stats, methods=["GET"]),
        Route("/health", endpoints.health, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={
            OAuthError: oauth_error_response,
            InvalidDevRequestError: _invalid_request,
            KeyFileError: _server_error,
            NoSigningKeyError: _server_error,
        },
    )


class _Endpoints:
    """The route handlers; key store calls run in a thread because they may read the key file."""

    def __init__(self, *, store: EmulatorKeyStore, issuer: str, jwks_max_age_s: int) -> None:
        self._store = store
        self._issuer = issuer
        self._discovery = discovery_document(issuer)
        self._cache_control = f"public, max-age={jwks_max_age_s}"

    async def discovery(self, request: Request) -> JSONResponse:
        return JSONResponse(self._discovery)

    async def jwks(self, request: Request) -> JSONResponse:
        document = await run_in_threadpool(self._store.published_jwks)
        return JSONResponse(document, headers={"Cache-Control": self._cache_control})

    async def dev_token(self, request: Request) -> JSONResponse:
        body = await _json_body(request)
        wanted = parse_token_request({} if body is None else body)
        token = await run_in_threadpool(
            lambda: mint_token(
                self._store,
                issuer=self._issuer,
                subject=wanted.subject,
                org_id=wanted.org_id,
                role=wanted.role,
                roles=wanted.roles,
                permissions=wanted.permissions,
                scopes=wanted.scopes,
                ttl_s=wanted.ttl_s,
                audience=wanted.audience,
                client_id=wanted.client_id,
                session_id=wanted.session_id,
            )
        )
        logger.info(
            "minted a dev token for sub %s (org %s, ttl %ds)", wanted.subject, wanted.org_id, wanted.ttl_s
        )
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": wanted.ttl_s})

    async def dev_rotate(self, request: Request) -> JSONResponse:
        wanted = parse_rotation_request(await _json_body(request))
        rotation = await run_in_threadpool(
            lambda: self._store.rotate(publish_lead_s=wanted.publish_lead_s, grace_s=wanted.grace_s)
        )
        return JSONResponse(
            {
                "kid": rotation.kid,
                "active_from": rotation.active_from,
                "previous_kid": rotation.previous_kid,
                "previous_retire_at": rotation.previous_retire_at,
            }
        )

    async def health(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})


async def _json_body(request: Request) -> object | None:
    raw = await read_body(request)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise InvalidDevRequestError("the body is not valid JSON") from err


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "invalid_request", "error_description": str(exc)}, status_code=400)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s %s failed: %s", request.method, request.url.path, exc)
    return JSONResponse({"error": "server_error", "error_description": str(exc)}, status_code=500)
