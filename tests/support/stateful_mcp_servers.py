"""Small MCP servers whose behaviour the agent's session tests observe.

`notes_server()` remembers one note per MCP session (what any stateful server may do), so a
test sees whether two callers ever shared a session. `held_server()` runs a tool until the
test releases it, so a test can evict or reap while a call is in flight.
"""

from __future__ import annotations

import asyncio

from fastmcp import Context, FastMCP
from google.protobuf import struct_pb2


def notes_server() -> FastMCP:
    """`remember(note)` keeps one note per MCP session; `recall()` returns this session's note."""
    server = FastMCP("notes")
    notes: dict[str, str] = {}

    @server.tool
    def remember(note: str, ctx: Context) -> str:
        """Remember a note for this session."""
        notes[ctx.session_id] = note
        return "remembered"

    @server.tool
    def recall(ctx: Context) -> str:
        """The note this session remembered."""
        return notes.get(ctx.session_id, "nothing remembered")

    return server


def held_server(entered: asyncio.Event, release: asyncio.Event) -> FastMCP:
    """`hold()` sets `entered` and answers once the test sets `release`; `ping()` answers at once."""
    server = FastMCP("held")

    @server.tool
    async def hold() -> str:
        """Wait for the test."""
        entered.set()
        await release.wait()
        return "released"

    @server.tool
    def ping() -> str:
        """Answer at once."""
        return "pong"

    return server


def struct_args(**values: object) -> struct_pb2.Struct:
    """Tool arguments as the agent's CallTool request carries them."""
    message = struct_pb2.Struct()
    message.update(values)
    return message
