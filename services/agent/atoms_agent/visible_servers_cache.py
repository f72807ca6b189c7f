"""VisibleServersCache: the registry servers a caller may use, kept briefly so calls skip the database.

Composition reads the registry on every ListTools, Chat turn and call to a registered server.
This keeps each answer per (organization, user), exactly the two values the registry's query
filters on, so one caller never receives another's list. An entry is used only while

- the registry's version is the one it was read at: any register or delete in this process
  drops every entry at once (writes are rare, reads are many), and a read that raced a write
  is not stored;
- it is younger than `ttl_s`: the bound on how long a change made through another replica
  may go unseen here.

Entries hold registry rows only, never a caller's token: the token is attached per call by
the composer, so its expiry is decided by the auth service and the session pool as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from atoms_agent.mcp_registry import RegisteredMcpServer
from atoms_grpc.principal import Principal


class VersionedServerSource(Protocol):
    """What the cache reads through: the registry."""

    @property
    def version(self) -> int:
        """Grows on every local change."""
        ...

    async def list_visible(self, principal: Principal) -> list[RegisteredMcpServer]:
        """The caller's organization's servers, then the caller's own."""
        ...


@dataclass(frozen=True, slots=True)
class _Entry:
    servers: tuple[RegisteredMcpServer, ...]
    version: int
    expires_at: float


class VisibleServersCache:
    """A bounded, short-lived, per-caller cache in front of `McpRegistry.list_visible`."""

    def __init__(
        self,
        source: VersionedServerSource,
        *,
        ttl_s: float = 5.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Args:
        source: the registry.
        ttl_s: the longest an entry is used; 0 turns the cache off.
        max_entries: callers kept at most (least recently used leave first); 0 turns it off.
        clock: monotonic clock, injectable for tests.
        """
        self._source = source
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def list_visible(self, principal: Principal) -> Sequence[RegisteredMcpServer]:
        """The registry's answer for this caller, from the cache when it is still current."""
        if self._ttl_s <= 0 or self._max_entries <= 0:
            return await self._source.list_visible(principal)
        key = (principal.org_id, principal.subject)
        version = self._source.version
        entry = self._entries.get(key)
        if entry is not None:
            if entry.version == version and self._clock() < entry.expires_at:
                self._entries.move_to_end(key)
                return entry.servers
            del self._entries[key]
        servers = tuple(await self._source.list_visible(principal))
        if self._source.version == version:  # no local write happened while the query ran
            self._entries[key] = _Entry(servers, version, self._clock() + self._ttl_s)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return servers
