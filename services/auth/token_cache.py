"""VerifiedTokenCache: recently verified JWTs, so a repeated token skips the signature check.

Keys are SHA-256 digests of the token, never the token. The cache is bounded in entries
(least recently used evicted first) and an entry lives no longer than the token's `exp`
nor the configured TTL, so a cached answer can never outlive the token.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from services.atoms_grpc.principal import Principal
from services.auth import metrics

_HITS = metrics.TOKEN_CACHE_LOOKUPS.labels("hit")
_MISSES = metrics.TOKEN_CACHE_LOOKUPS.labels("miss")


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A JWT whose signature and claims passed, with what the audience policy needs."""

    principal: Principal
    first_party: bool
    expires_at: float


class VerifiedTokenCache:
    """A bounded LRU of verified tokens keyed by token digest."""

    def __init__(self, *, max_entries: int, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        """Create an empty cache; `max_entries` 0 or `ttl_s` 0 disables it."""
        self._max_entries = max_entries
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[VerifiedToken, float]] = OrderedDict()

    @staticmethod
    def key_for(token: str) -> bytes:
        """Return the cache key of a token (its SHA-256 digest)."""
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()

    def get(self, key: bytes) -> VerifiedToken | None:
        """Return the cached verification if it is still within its life, else None."""
        entry = self._entries.get(key)
        if entry is None:
            _MISSES.inc()
            return None
        verified, valid_until = entry
        if self._clock() >= valid_until:
            del self._entries[key]
            _MISSES.inc()
            return None
        self._entries.move_to_end(key)
        _HITS.inc()
        return verified

    def put(self, key: bytes, verified: VerifiedToken) -> None:
        """Remember a verification until min(exp, now + ttl)."""
        if self._max_entries <= 0 or self._ttl_s <= 0:
            return
        valid_until = min(verified.expires_at, self._clock() + self._ttl_s)
        self._entries[key] = (verified, valid_until)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        metrics.TOKEN_CACHE_ENTRIES.set(len(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
