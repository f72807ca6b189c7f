"""Which pooled MCP session a call may use: the one rule that keeps principals apart.

A stateful MCP server remembers things per session (what a tool was told, a cursor, a
login), and so does the HTTP client under it (cookies). So a session is shared only where
sharing cannot leak: a server that is first-party AND stateless by configuration (and such
a server needs no session at all: `StatelessMcpCaller`). Every other session belongs to one
principal (issuer, subject and organization, or the internal service's name) and one server
(its scope, name and URL). The token is not part of the key: it changes on every refresh,
and a refresh must not cost a new session. A session never carries one call's credentials for
another: each request sends the headers of the call it serves (`McpCallScope`).
"""

from __future__ import annotations

import hashlib

from atoms_agent.mcp_composition import ComposedMcpServer
from atoms_grpc.principal import Principal

_SHARED = b"shared"
_PRINCIPAL = b"principal"


def session_may_be_shared(server: ComposedMcpServer, stateless_first_party: frozenset[str]) -> bool:
    """True only for a first-party server whose list entry says it is stateless."""
    return server.first_party and server.name in stateless_first_party


def principal_identity(principal: Principal) -> tuple[str, ...]:
    """Who a session belongs to: never the token, which changes on every refresh."""
    if principal.is_internal:
        return ("internal", principal.service_name or principal.subject, principal.issuer)
    return ("user", principal.issuer, principal.subject, principal.org_id)


def session_key(
    server: ComposedMcpServer, principal: Principal, *, stateless_first_party: frozenset[str]
) -> bytes:
    """The pool key of the session `principal` may use to reach `server`."""
    parts = (
        [_SHARED]
        if session_may_be_shared(server, stateless_first_party)
        else [_PRINCIPAL, *(part.encode() for part in principal_identity(principal))]
    )
    parts += [server.scope.value.encode(), server.name.encode(), server.url.encode()]
    # Length-prefixed, so no choice of strings makes two different keys collide.
    return hashlib.sha256(b"".join(len(part).to_bytes(4, "big") + part for part in parts)).digest()
