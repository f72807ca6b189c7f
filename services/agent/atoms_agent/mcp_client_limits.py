"""McpClientLimits: how much one MCP server may send the agent, whoever registered it.

A registered server is chosen by a user, so everything it answers is hostile input: a 150 KiB
gzip answer inflates to hundreds of MiB, a `tools/list` cursor can point to another page for
ever, a listing can hold thousands of tools or trickle in for minutes. Each bound below turns
that into `McpLimitExceededError` (RESOURCE_EXHAUSTED, reason MCP_LIMIT_EXCEEDED) for that
server only, with the setting's name in the error's `limit` metadata.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_TOOL_PAGES = 20
DEFAULT_MAX_TOOLS_PER_SERVER = 200
DEFAULT_LIST_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class McpClientLimits:
    """Bounds on what the agent reads from one MCP server.

    Attributes:
        max_response_bytes: bytes of one HTTP answer *after* decompression (a JSON body, or an
            SSE stream as a whole); Content-Length is never trusted.
        max_tool_pages: `tools/list` pages followed for one listing.
        max_tools_per_server: tools one listing may hold, over all its pages.
        list_timeout_s: time one whole listing (every page) may take.
    """

    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_tool_pages: int = DEFAULT_MAX_TOOL_PAGES
    max_tools_per_server: int = DEFAULT_MAX_TOOLS_PER_SERVER
    list_timeout_s: float = DEFAULT_LIST_TIMEOUT_S

    def __post_init__(self) -> None:
        """Refuse a bound that would disable itself.

        Raises:
            ValueError: a bound is zero, negative or not finite.
        """
        for name in ("max_response_bytes", "max_tool_pages", "max_tools_per_server"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not (math.isfinite(self.list_timeout_s) and self.list_timeout_s > 0):
            raise ValueError("list_timeout_s must be a positive number of seconds")
