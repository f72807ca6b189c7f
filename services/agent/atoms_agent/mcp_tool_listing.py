"""list_every_page: a server's whole `tools/list`, page after page, within the listing bounds.

The same bounds hold whether the pages come through a session or as independent requests:
pages followed, tools in all, and the time the whole listing may take (`McpClientLimits`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from atoms_agent.errors import McpLimitExceededError
from atoms_agent.mcp_client_limits import McpClientLimits

PageOf = Callable[[str | None], Awaitable[Any]]
"""Fetches the page at a cursor (None: the first); returns an MCP `ListToolsResult`."""


async def list_every_page(server_name: str, limits: McpClientLimits, page_of: PageOf) -> list[Any]:
    """Every tool of the server, following `next_cursor`.

    Raises:
        McpLimitExceededError: too many pages or tools, or the listing took too long.
        AgentError: a page could not be fetched.
    """
    try:
        async with asyncio.timeout(limits.list_timeout_s):
            return await _pages(server_name, limits, page_of)
    except TimeoutError as err:
        raise McpLimitExceededError(
            f"MCP server {server_name} took longer than {limits.list_timeout_s:g} s "
            "to list its tools (mcp_list_timeout_s)",
            limit="mcp_list_timeout_s",
        ) from err


async def _pages(server_name: str, limits: McpClientLimits, page_of: PageOf) -> list[Any]:
    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(limits.max_tool_pages):
        page = await page_of(cursor)
        tools.extend(page.tools)
        if len(tools) > limits.max_tools_per_server:
            raise McpLimitExceededError(
                f"MCP server {server_name} lists more than {limits.max_tools_per_server} tools "
                "(mcp_max_tools_per_server)",
                limit="mcp_max_tools_per_server",
            )
        cursor = page.next_cursor
        if not cursor:
            return tools
    raise McpLimitExceededError(
        f"MCP server {server_name} lists its tools over more than {limits.max_tool_pages} pages "
        "(mcp_max_tool_pages)",
        limit="mcp_max_tool_pages",
    )
