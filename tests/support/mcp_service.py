"""start_mcp_service: the real Atoms MCP service on a free loopback port, for stacks built in tests."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

from atoms_mcp.server import McpServer
from atoms_mcp.settings import McpSettings


async def start_mcp_service(
    stack: contextlib.AsyncExitStack, workdir: Path, *, issuer: str, auth_address: str
) -> str:
    """Start the Atoms MCP service authenticating through `auth_address`; return its MCP URL.

    The service stops when `stack` closes; its SQLite store lives in `workdir`.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    stack.callback(listener.close)
    port = listener.getsockname()[1]
    settings = McpSettings.model_validate(
        {
            "port": port,
            "base_url": f"http://127.0.0.1:{port}",
            "authkit_domain": issuer,
            "auth_addr": auth_address,
            "database_url": f"sqlite+aiosqlite:///{workdir / 'atoms.db'}",
        }
    )
    server = McpServer(settings)
    await server.start(sockets=[listener])
    stack.push_async_callback(server.stop)
    return f"http://127.0.0.1:{port}{settings.path}"
