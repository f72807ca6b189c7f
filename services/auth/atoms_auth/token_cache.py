"""VerifiedTokenCache: recently verified JWTs, so a repeated token skips the signature check.

Keys are SHA-256 digests of the token (`internal_tokens.token_digest`), never the token.
The cache is bounded in entries (least recently used evicted first) and an entry lives no
longer than the token's `exp` nor the configured TTL, so a cached answer can never outlive
the token.

Entries are compact (`AcceptedToken`: the principal serialised, plus the two tuples the
audience and scope checks read): a full cache of the default 100,000 entries stays in tens
of megabytes, and a hit is answered on the wire without rebuilding the principal message.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from atoms.auth.v1 import auth_pb2
from atoms_auth import metrics
from atoms_grpc.principal import Principal

_HITS = metrics.TOKEN_CACHE_LOOKUPS.labels("hit")
_MISSES = metrics.TOKEN_CACHE_LOOKUPS.labels("miss")


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A JWT whose signature and claims passed, with what the audience policy needs."""

    principal: Principal
    first_party: bool
    expires_at: float


@dataclass(frozen=True, slots=True)
class AcceptedToken:
    """An accepted token in compact form: what the policy checks read, and the principal on the wire.

    Attributes:
        principal_wire: the `atoms.auth.v1.Principal` message, serialised.
        audiences: the principal's audiences (the audience policy reads them).
        scopes: the principal's scopes (the scope check reads them).
        first_party: whether the token is a first-party session token.
        valid_until: epoch seconds after which this answer must not be used.
    """

    principal_wire: bytes
    audiences: tuple[str, ...]
    scopes: tuple[str, ...]
    first_party: bool
    valid_until: float

    @classmethod
    def of(cls, principal: Principal, *, first_party: bool, valid_until: float) -> AcceptedToken:
        """Build the compact form of an accepted principal."""
        return cls(
            principal_wire=principal.to_proto().SerializeToString(),
            audiences=principal.audiences,
            scopes=principal.scopes,
            first_party=first_party,
            valid_until=valid_until,
        )

    def principal(self) -> Principal:
        """Decode the principal (about 6 µs: callers on the wire path use `principal_wire`)."""
        return Principal.from_proto(auth_pb2.Principal.FromString(self.principal_wire))


class VerifiedTokenCache:
    """A bounded LRU of accepted tokens keyed by token digest."""

    def __init__(self, *, max_entries: int, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        """Create an empty cache; `max_entries` 0 or `ttl_s` 0 disables it."""
        self._max_entries = max_entries
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[bytes, AcceptedToken] = OrderedDict()

    def get(self, key: bytes) -> AcceptedToken | None:
        """Return the cached answer if it is still within its life, else None."""
        entry = self._entries.get(key)
        if entry is None:
            _MISSES.inc()
            return None
        if self._clock() >= entry.valid_until:
            del self._entries[key]
            _MISSES.inc()
            return None
        self._entries.move_to_end(key)
        _HITS.inc()
        return entry

    def put(self, key: bytes, verified: VerifiedToken) -> AcceptedToken:
        """Remember a verification until min(exp, now + ttl); return its compact form."""
        accepted = AcceptedToken.of(
            verified.principal,
            first_party=verified.first_party,
            valid_until=min(verified.expires_at, self._clock() + self._ttl_s),
        )
        if self._max_entries <= 0 or self._ttl_s <= 0:
            return accepted
        self._entries[key] = accepted
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        metrics.TOKEN_CACHE_ENTRIES.set(len(self._entries))
        return accepted

    def __len__(self) -> int:
        return len(self._entries)
