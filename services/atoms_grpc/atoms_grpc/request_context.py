"""Per-RPC values set by the interceptors and read by handlers and log lines.

Each value lives in a `contextvars.ContextVar`, so concurrent RPCs on one event loop never
see each other's values.
"""

from __future__ import annotations

import contextvars

from atoms_grpc.principal import Principal

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("atoms_request_id", default="")
rpc_method_var: contextvars.ContextVar[str] = contextvars.ContextVar("atoms_rpc_method", default="")
principal_var: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "atoms_principal", default=None
)
bearer_token_var: contextvars.ContextVar[str] = contextvars.ContextVar("atoms_bearer_token", default="")


class NoPrincipalError(RuntimeError):
    """A handler asked for the principal outside an authenticated RPC."""


def current_principal() -> Principal:
    """Return the principal of the RPC being handled.

    Raises:
        NoPrincipalError: the RPC did not pass `BearerAuthInterceptor` (a wiring bug).
    """
    principal = principal_var.get()
    if principal is None:
        raise NoPrincipalError("no authenticated principal: is BearerAuthInterceptor installed?")
    return principal


def current_request_id() -> str:
    """Return the request id of the RPC being handled, or "" outside an RPC."""
    return request_id_var.get()


def current_bearer_token() -> str:
    """Return the bearer token of the RPC being handled ("" outside an authenticated RPC).

    Only for forwarding to first-party services; never log it.
    """
    return bearer_token_var.get()
