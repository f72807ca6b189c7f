"""InsecureDevMarker: stamps every tool result of an unauthenticated dev server as such.

With `--insecure-dev` and no authentication configured, anyone who reaches the port acts as
an admin. The marker makes that impossible to miss for whoever reads the results: every
tool result, errors included, carries `"insecure_dev": true` in its `_meta`.
"""

from __future__ import annotations

import logging

import mcp.types as mcp_types
from fastmcp.exceptions import FastMCPError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult

logger = logging.getLogger(__name__)

INSECURE_DEV_META_KEY = "insecure_dev"


class InsecureDevMarker(Middleware):
    """A FastMCP middleware adding `"insecure_dev": true` to the `_meta` of every tool result."""

    async def on_call_tool(
        self,
        context: MiddlewareContext[mcp_types.CallToolRequestParams],
        call_next: CallNext[mcp_types.CallToolRequestParams, ToolResult],
    ) -> ToolResult:
        """Run the tool, then mark its result (or the error it reports) as coming from an insecure server."""
        try:
            result = await call_next(context)
        except FastMCPError as err:
            # The same error result FastMCP would send, plus the marker.
            return ToolResult(
                content=[mcp_types.TextContent(type="text", text=str(err))],
                is_error=True,
                meta={INSECURE_DEV_META_KEY: True},
            )
        result.meta = {**(result.meta or {}), INSECURE_DEV_META_KEY: True}
        return result


def warn_insecure_dev(missing: tuple[str, ...]) -> None:
    """Log, loudly, that the server accepts anyone."""
    logger.critical(
        "INSECURE DEV MODE: authentication is OFF (%s not set). Every caller is an admin of any "
        "organization named in X-Atoms-Org-Id. Never expose this server; never use it in production.",
        ", ".join(missing),
    )
