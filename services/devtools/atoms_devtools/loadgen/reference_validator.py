"""The reference: a token validator of the common kind, to compare the auth service with.

It does what the WorkOS Python SDK's `Session.is_valid_jwt` does (workos/session.py): a
`PyJWKClient` on the issuer's JWKS URL, then on every request
`get_signing_key_from_jwt(token)` and `jwt.decode(token, key, algorithms=["RS256"])`,
synchronously, on the event loop, inside a plain `grpc.aio` servicer on uvloop. No cache
of verified tokens, no interceptors. It answers with the same principal message as the
auth service, or UNAUTHENTICATED.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import grpc
import jwt
import uvloop

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_devtools.loadgen.ceiling_server import BareGrpcServer
from atoms_grpc.principal import Principal, PrincipalKind
from atoms_grpc.service_runner import run_until_signalled
from atoms_grpc.token_fingerprint import strip_bearer


class PyJwkClientServicer(auth_pb2_grpc.AuthServiceServicer):
    """ValidateToken the way the WorkOS SDK validates a session's access token."""

    def __init__(self, *, jwks_url: str) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url)
        self._algorithms = ["RS256"]

    async def ValidateToken(
        self, request: auth_pb2.ValidateTokenRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.ValidateTokenResponse:
        """Verify with PyJWKClient + jwt.decode; UNAUTHENTICATED when PyJWT refuses the token."""
        token = strip_bearer(request.token)
        try:
            signing_key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, signing_key.key, algorithms=self._algorithms)
        except (jwt.PyJWTError, jwt.PyJWKClientError):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid token")
        return auth_pb2.ValidateTokenResponse(principal=_principal(claims).to_proto())


def _principal(claims: Mapping[str, Any]) -> Principal:
    return Principal(
        kind=PrincipalKind.USER,
        subject=str(claims.get("sub", "")),
        issuer=str(claims.get("iss", "")),
        org_id=str(claims.get("org_id", "")),
        session_id=str(claims.get("sid", "")),
        role=str(claims.get("role", "")),
        roles=tuple(claims.get("roles", ())),
        permissions=tuple(claims.get("permissions", ())),
        token_id=str(claims.get("jti", "")),
        expires_at=datetime.fromtimestamp(float(claims["exp"]), UTC) if "exp" in claims else None,
    )


def serve_reference(*, host: str, port: int, jwks_url: str) -> None:
    """Run the reference validator until SIGINT or SIGTERM."""
    server = BareGrpcServer(PyJwkClientServicer(jwks_url=jwks_url), host=host, port=port)
    uvloop.run(run_until_signalled(server, name="reference validator", grace_s=1.0))
