"""Prometheus metrics of the agent's MCP sessions: how many are open and leased, and why they were retired.

`atoms_agent_mcp_sessions{state}` follows `McpSessionPool`'s own state: `open` counts the
sessions a pool holds, from their handshake until it retires and closes them (a retired session
a call still holds stays open until that call ends); `leased` counts those of them a call holds
right now. Each pool reports its counts after every change and only the difference reaches
the gauge, so pools in one process add up and a closed pool takes back all it added.
Stateless first-party servers are called without a session and count in neither.

`atoms_agent_mcp_session_evictions_total{reason}` counts the sessions a pool retired before
shutdown (closing the pool retires nothing), one per session, by `EvictionReason`.
"""

from __future__ import annotations

import enum

from prometheus_client import Counter, Gauge

MCP_SESSIONS = Gauge(
    "atoms_agent_mcp_sessions",
    "MCP sessions the agent holds, by state: open (from the handshake until retired and closed; "
    "stateless first-party servers use none), leased (open and held by a call right now).",
    ["state"],
)
MCP_SESSION_EVICTIONS = Counter(
    "atoms_agent_mcp_session_evictions",
    "MCP sessions the agent's pool retired, by reason: idle (unused for mcp_session_idle_s), "
    "expired (the newest token it was given has expired), capacity (the least recently used "
    "session no call held, beyond mcp_session_max_entries), refused (the server refused a call's "
    "credentials, HTTP 401 or 403), failed (the server dropped it, its connection failed, or the "
    "agent refused one of its answers).",
    ["reason"],
)

OPEN_SESSIONS = MCP_SESSIONS.labels("open")
LEASED_SESSIONS = MCP_SESSIONS.labels("leased")


class EvictionReason(enum.StrEnum):
    """Why the pool retired a session (the `reason` label)."""

    IDLE = "idle"  # the reaper: no call used it for `idle_s`
    EXPIRED = "expired"  # the reaper: the newest token a call brought it has expired
    CAPACITY = "capacity"  # over `max_entries`: the least recently used one no call holds
    REFUSED = "refused"  # the server answered a call with 401 or 403
    FAILED = "failed"  # dropped by the server, a broken connection, or an answer the agent refused


_EVICTIONS = {reason: MCP_SESSION_EVICTIONS.labels(reason.value) for reason in EvictionReason}


def count_eviction(reason: EvictionReason) -> None:
    """Count one session the pool retired."""
    _EVICTIONS[reason].inc()


class SessionGaugeShare:
    """One pool's part of `atoms_agent_mcp_sessions`, applied to the gauge as differences."""

    __slots__ = ("_leased", "_open")

    def __init__(self) -> None:
        self._open = 0
        self._leased = 0

    def report(self, *, open_sessions: int, leased_sessions: int) -> None:
        """Make this pool's part of the gauge `open_sessions` and `leased_sessions` (0, 0 when closed)."""
        if open_sessions != self._open:
            OPEN_SESSIONS.inc(open_sessions - self._open)
            self._open = open_sessions
        if leased_sessions != self._leased:
            LEASED_SESSIONS.inc(leased_sessions - self._leased)
            self._leased = leased_sessions
