"""The signed-in user's `Authorization` header, for first-party MCP servers only.

Mirrors the TypeScript `getMCPAuthHeaders(mcpId, session)`: the session comes from an
injected callable (sync or async) that returns something with an `access_token`, or None.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from atoms_agent_client.first_party_registry import forwards_user_token

# RFC 6750 b64token: what a bearer credential may contain (a JWT always fits). Anything else
# would be a header-injection attempt or a bug, and must not reach the wire.
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class Session(Protocol):
    """What a session source returns: the user's access token, when signed in."""

    @property
    def access_token(self) -> str | None: ...


@dataclass(frozen=True, slots=True, repr=False)
class AccessTokenSession:
    """A session holding one token (a script's or a service's); repr never shows it."""

    access_token: str | None

    def __repr__(self) -> str:
        return f"AccessTokenSession(access_token={'<set>' if self.access_token else None})"


SessionSource = Callable[[], Session | Awaitable[Session | None] | None]
"""Returns the current session or None; may be a coroutine function."""


class InvalidAccessTokenError(ValueError):
    """The session's token is present but cannot be a bearer token (the token is never in the message)."""

    def __init__(self) -> None:
        super().__init__("the session's access token is not a valid bearer token (RFC 6750 b64token)")


def static_session(token: str | None) -> SessionSource:
    """A session source that always returns `token` (None or "" means signed out)."""
    session = AccessTokenSession(access_token=token)
    return lambda: session


async def get_bearer_headers(session: SessionSource | None) -> dict[str, str]:
    """Return `{"Authorization": "Bearer <token>"}` from the session, or `{}` when it has no token.

    Raises:
        InvalidAccessTokenError: the token holds characters no bearer token may contain.
    """
    current = None if session is None else session()
    if inspect.isawaitable(current):
        current = await current
    token = getattr(current, "access_token", None)
    if not isinstance(token, str) or not token:
        return {}
    if not _BEARER_TOKEN.fullmatch(token):
        raise InvalidAccessTokenError
    return {"Authorization": f"Bearer {token}"}


async def get_mcp_auth_headers(mcp_id: str, session: SessionSource) -> dict[str, str]:
    """Return the headers to send to the MCP `mcp_id` on the signed-in user's behalf.

    A first-party MCP (auth `internal`, requires the user token) gets the bearer header when
    the session has a token. Anything else (an unknown id, a third-party server, a lookalike
    such as `atoms-mcp`) gets `{}`, and the session source is not even called.

    Raises:
        InvalidAccessTokenError: the token holds characters no bearer token may contain.
    """
    if not forwards_user_token(mcp_id):
        return {}
    return await get_bearer_headers(session)
