"""McpCallScope: what one MCP call sends and what happened to it, carried to the request that serves it.

A pooled MCP session is keyed by principal and server, not by token, so the credentials a
request carries must come from the call, not from the session: a refreshed token then needs
no new session, and two calls of one principal each send their own token. The MCP SDK sends
each request from its own task but runs it in a copy of the caller's context, so a context
variable set around the call reaches the HTTP client's hooks; the scope is mutable, so what
those hooks record (the HTTP status, an answer refused) comes back to the caller, and one
call's 401 is never blamed on another call sharing the session.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from atoms_agent.bounded_response_transport import AnswerRefusedError


@dataclass(slots=True)
class McpCallScope:
    """One call: the headers its requests carry, and what its requests met."""

    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    status: int | None = None
    refusal: AnswerRefusedError | None = None


_CURRENT: contextvars.ContextVar[McpCallScope | None] = contextvars.ContextVar("mcp_call_scope", default=None)


@contextlib.contextmanager
def mcp_call_scope(headers: Mapping[str, str]) -> Iterator[McpCallScope]:
    """Run the block as one call whose requests carry `headers`; yield the scope they report to."""
    scope = McpCallScope(headers=headers)
    reset = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(reset)


def current_mcp_call() -> McpCallScope | None:
    """The call this request serves, or None for a request no call made (a session's own traffic)."""
    return _CURRENT.get()


def context_without_call() -> contextvars.Context:
    """A copy of the current context outside any call: for tasks that outlive the call that started them."""
    context = contextvars.copy_context()
    context.run(_CURRENT.set, None)
    return context
