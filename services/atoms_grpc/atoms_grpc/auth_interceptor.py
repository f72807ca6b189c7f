"""BearerAuthInterceptor: authenticates every RPC's `authorization` metadata through the auth service.

Health and reflection stay open (probes and grpcurl/ghz discovery carry no token). The
principal and the caller's token are put in context variables: handlers read the principal
with `current_principal()`, and `forwarded_metadata()` passes the token on downstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from atoms_grpc.around_interceptor import AroundInterceptor
from atoms_grpc.auth_client import AuthClient
from atoms_grpc.auth_errors import MalformedCredentialsError, MissingCredentialsError
from atoms_grpc.request_context import bearer_token_var, principal_var, request_id_var
from atoms_grpc.request_id_interceptor import REQUEST_ID_METADATA_KEY
from atoms_grpc.token_fingerprint import fingerprint_token, strip_bearer
from atoms_grpc.tracing import (
    PRINCIPAL_KIND,
    TOKEN_FINGERPRINT,
    annotate_span,
    inject_trace_headers,
    tracing_enabled,
)

AUTHORIZATION_METADATA_KEY = "authorization"
DEFAULT_EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class BearerAuthInterceptor(AroundInterceptor):
    """Rejects RPCs without a valid bearer token; exposes the principal to handlers.

    Place it innermost, inside `StatusMappingInterceptor`, so its refusals become statuses
    with ErrorInfo and the access log records them.
    """

    def __init__(
        self,
        auth_client: AuthClient,
        *,
        audience: str,
        required_scopes: Sequence[str] = (),
        exempt_prefixes: Sequence[str] = DEFAULT_EXEMPT_PREFIXES,
    ) -> None:
        """Args:
        auth_client: the client of the auth service.
        audience: the audience this server accepts (its own resource identifier), passed to
            the auth service with every token: a token issued for another resource is refused.
        required_scopes: scopes every RPC of this server requires.
        exempt_prefixes: method prefixes that need no token.

        Raises:
            ValueError: `audience` is empty: the server would accept tokens meant for anyone.
        """
        if not audience.strip():
            raise ValueError("audience is required: the identifier this server accepts tokens for")
        self._auth_client = auth_client
        self._required_scopes = tuple(required_scopes)
        self._audience = audience
        self._exempt_prefixes = tuple(exempt_prefixes)

    async def before_rpc(self, context: grpc.aio.ServicerContext[Any, Any], method: str) -> None:
        """Authenticate (unless the method is exempt) and set the principal for the handler."""
        if not method.startswith(self._exempt_prefixes):
            await self._authenticate(context)

    async def _authenticate(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        token = _bearer_token(context)
        principal = await self._auth_client.validate(
            token,
            required_scopes=self._required_scopes,
            audience=self._audience,
            timeout_s=context.time_remaining(),
        )
        principal_var.set(principal)
        bearer_token_var.set(token)
        if tracing_enabled():
            annotate_span(
                {TOKEN_FINGERPRINT: fingerprint_token(token), PRINCIPAL_KIND: principal.kind.name.lower()}
            )


def _bearer_token(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    values = [
        value for key, value in (context.invocation_metadata() or ()) if key == AUTHORIZATION_METADATA_KEY
    ]
    if not values:
        raise MissingCredentialsError("send the token as `authorization: Bearer <token>` metadata")
    if len(values) > 1 or not isinstance(values[0], str):
        raise MalformedCredentialsError("send exactly one `authorization` metadata value")
    scheme, _, rest = values[0].strip().partition(" ")
    if rest and scheme.lower() != "bearer":
        raise MalformedCredentialsError("the `authorization` metadata must use the Bearer scheme")
    token = strip_bearer(values[0])
    if not token:
        raise MissingCredentialsError("send the token as `authorization: Bearer <token>` metadata")
    return token


def forwarded_metadata() -> tuple[tuple[str, str], ...]:
    """Metadata that carries the current caller's token, request id and trace context downstream.

    Only call this for first-party downstream services: it hands them the user's token.
    """
    metadata: list[tuple[str, str]] = []
    if token := bearer_token_var.get():
        metadata.append((AUTHORIZATION_METADATA_KEY, f"Bearer {token}"))
    if request_id := request_id_var.get():
        metadata.append((REQUEST_ID_METADATA_KEY, request_id))
    if tracing_enabled():
        trace_headers: dict[str, str] = {}
        inject_trace_headers(trace_headers)
        metadata.extend(trace_headers.items())
    return tuple(metadata)
