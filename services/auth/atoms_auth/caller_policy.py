"""CallerPolicyInterceptor: optionally, only listed services may ask the auth service anything.

A caller proves who it is with its own internal token in the `authorization` metadata of the
call (the token it asks about travels in the request body), or with a mutual-TLS client
certificate. The allow-list names them as `token:<internal token name>` and
`mtls:<certificate identity>` (a SAN URI such as `spiffe://atoms/ns/prod/sa/agent`, a SAN DNS
name, or the CN). No credential at all is UNAUTHENTICATED; a valid credential that is not
listed is PERMISSION_DENIED (a listed-but-wrong token reads as no credential). Health and
reflection stay open for probes and discovery.
"""

from __future__ import annotations

import grpc

from atoms_auth.errors import AuthError
from atoms_auth.internal_tokens import InternalTokenRegistry
from atoms_auth.settings import CallerAllowList
from atoms_grpc.around_interceptor import AroundInterceptor
from atoms_grpc.auth_interceptor import DEFAULT_EXEMPT_PREFIXES
from atoms_grpc.tls_config import peer_identities
from atoms_grpc.token_fingerprint import strip_bearer


class CallerNotAllowedError(AuthError):
    """The caller of the auth service is not on its allow-list."""

    status_code = grpc.StatusCode.PERMISSION_DENIED
    reason = "CALLER_NOT_ALLOWED"


class CallerUnauthenticatedError(CallerNotAllowedError):
    """The caller of the auth service presented no usable credential."""

    status_code = grpc.StatusCode.UNAUTHENTICATED


class CallerPolicyInterceptor(AroundInterceptor):
    """Refuses callers that are not on the allow-list (inside StatusMappingInterceptor)."""

    def __init__(self, allowed: CallerAllowList, internal_tokens: InternalTokenRegistry) -> None:
        self._allowed = allowed
        self._internal_tokens = internal_tokens

    async def before_rpc(self, context: grpc.aio.ServicerContext, method: str) -> None:
        """Check the caller before the handler runs (health and reflection stay open)."""
        if not method.startswith(DEFAULT_EXEMPT_PREFIXES):
            self._check(context)

    def _check(self, context: grpc.aio.ServicerContext) -> None:
        identities = peer_identities(context)
        if any(identity in self._allowed.tls_identities for identity in identities):
            return
        caller = self._internal_tokens.match(_caller_token(context))
        if caller is not None and caller.service_name in self._allowed.token_names:
            return
        if caller is None and not identities:
            raise CallerUnauthenticatedError(
                "only listed services may call the auth service: send your internal token as "
                "`authorization` metadata or use a mutual-TLS client certificate"
            )
        raise CallerNotAllowedError("this caller is not on the auth service's allow-list")


def _caller_token(context: grpc.aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            return strip_bearer(value)
    return ""
