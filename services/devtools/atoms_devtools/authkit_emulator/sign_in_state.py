"""What a sign-in leaves behind, in memory: pending logins, authorization codes, sessions.

Codes and refresh tokens are stored only as SHA-256 digests: the emulator compares, it never
needs them back, and a dump of its memory or a debug log of these records replays nothing.
Every map is bounded; the oldest entry is dropped first. All of it is gone when the emulator
stops (a restarted emulator knows no session: sign in again).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

Flow = Literal["workos", "oauth"]
V = TypeVar("V")


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a code or refresh token is stored."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """An authorize request that passed its checks: what the code will be bound to."""

    flow: Flow
    client_id: str
    redirect_uri: str
    state: str | None = None
    code_challenge: str | None = None
    resource: str | None = None
    scope: str | None = None
    organization_id: str | None = None
    login_hint: str | None = None


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """A login page that was shown and not yet submitted."""

    id: str
    request: AuthorizationRequest
    expires_at: float


@dataclass(slots=True)
class CodeGrant:
    """An authorization code (stored under its digest) and what it was issued for."""

    request: AuthorizationRequest
    user_id: str
    organization_id: str | None
    expires_at: float
    session_id: str | None = None  # set when the code is redeemed; a second use revokes it


@dataclass(slots=True)
class Session:
    """A signed-in session: its current refresh token's digest and whether it has ended."""

    id: str
    user_id: str
    organization_id: str | None
    client_id: str
    flow: Flow
    resource: str | None
    scope: str | None
    public_client: bool
    signed_in_at: float
    refresh_digest: str = ""
    ended: bool = False


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """Which session a refresh token belongs to, and whether it was replaced by a newer one."""

    session_id: str
    rotated: bool = False


class BoundedMap(Generic[V]):
    """An insertion-ordered map that forgets its oldest entries beyond `max_entries`."""

    def __init__(self, *, max_entries: int) -> None:
        self._entries: OrderedDict[str, V] = OrderedDict()
        self._max_entries = max_entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> V | None:
        """Return the value, or None."""
        return self._entries.get(key)

    def put(self, key: str, value: V) -> None:
        """Store the value as the newest entry, dropping the oldest beyond the bound."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: str) -> V | None:
        """Remove and return the value, or None."""
        return self._entries.pop(key, None)


class SignInState:
    """The four bounded maps of the emulator's sign-in flows."""

    def __init__(self, *, max_entries: int = 10_000) -> None:
        self.pending: BoundedMap[PendingLogin] = BoundedMap(max_entries=max_entries)
        self.codes: BoundedMap[CodeGrant] = BoundedMap(max_entries=max_entries)
        self.sessions: BoundedMap[Session] = BoundedMap(max_entries=max_entries)
        # Several refresh tokens per session (the current and rotated ones), hence the larger bound.
        self.refresh_tokens: BoundedMap[RefreshRecord] = BoundedMap(max_entries=10 * max_entries)
