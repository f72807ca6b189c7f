"""`atoms chat` and `atoms call-tool`: their parsers only (the code is in `cli.py`, loaded when one runs)."""

from __future__ import annotations

import argparse
from typing import Any

from atoms_cli.lazy_handler import lazy_handler


def register(commands: Any) -> None:
    """Add `atoms chat` and `atoms call-tool` to the umbrella parser."""
    chat = commands.add_parser(
        "chat",
        help="chat with the agent as the signed-in user",
        description="Send one message to the agent and stream its answer (the model may call your "
        "MCP tools). gRPC by default; --http uses the agent's OpenAI-compatible HTTP face.",
    )
    _add_connection_flags(chat)
    chat.add_argument("--http", action="store_true", help="use the HTTP face (ATOMS_AGENT_HTTP_URL)")
    chat.add_argument("--http-url", metavar="URL", help="the HTTP face's URL; implies --http")
    chat.add_argument("--model", default="", help="the model (default: the agent's)")
    chat.add_argument("message", nargs="+", help="the message; several words are joined by spaces")
    chat.set_defaults(handler=lazy_handler("atoms_agent_client.cli:run_chat"))

    call = commands.add_parser(
        "call-tool",
        help="call one MCP tool through the agent",
        description="Call a tool of one of your MCP servers through the agent and print its result "
        "as JSON, e.g. `atoms call-tool atoms whoami`.",
    )
    _add_connection_flags(call)
    call.add_argument("server", help="the MCP server's name, e.g. atoms")
    call.add_argument("tool", help="the tool's name, e.g. whoami")
    call.add_argument(
        "--arg",
        action="append",
        default=[],
        dest="arguments",
        metavar="KEY=TEXT|KEY:=JSON",
        help="a tool argument: KEY=TEXT passes a string, KEY:=JSON any JSON value (repeatable)",
    )
    call.set_defaults(handler=lazy_handler("atoms_agent_client.cli:run_call_tool"))


def _add_connection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token", help="the user's AuthKit access token; prefer ATOMS_TOKEN, which stays out of history"
    )
    parser.add_argument("--agent", metavar="HOST:PORT", help="the agent's gRPC address (ATOMS_AGENT_ADDR)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="deadline (ATOMS_AGENT_TIMEOUT_S)")
