"""ModelToolIndex: the function names the model sees for the caller's MCP tools, one tool per name.

A model function name is `server__tool`, at most 64 characters of `[A-Za-z0-9_-]` (what
OpenAI-compatible endpoints accept). Cutting or cleaning names can make two tools look
alike (`a__b` + `c` and `a` + `b__c`; two long names sharing their first 64 characters), and
a plain dict would silently route the model's call to whichever came last. Here a name that
is too long, had to be cleaned, or is already taken gets a suffix derived from the exact
(server, tool) pair instead; a tool whose name still collides is left out and logged, never
routed to another tool.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from atoms_agent.tool_gateway import ServerTools

logger = logging.getLogger(__name__)

MAX_FUNCTION_NAME_CHARS = 64
TOOL_NAME_SEPARATOR = "__"
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")
_SUFFIX_HEX_CHARS = 10


@dataclass(frozen=True, slots=True)
class ModelTool:
    """One function offered to the model and the MCP tool it stands for."""

    function_name: str
    server_name: str
    tool_name: str
    spec: dict[str, Any]


class ModelToolIndex:
    """Function specs for the model, and the way back from a function name to its tool."""

    def __init__(self) -> None:
        self._by_name: dict[str, ModelTool] = {}

    @classmethod
    def of(cls, listed: Iterable[ServerTools]) -> ModelToolIndex:
        """The index of every tool the servers listed, in listing order."""
        index = cls()
        for server_tools in listed:
            for tool in server_tools.tools:
                index.add(server_tools.server.name, tool)
        return index

    def add(self, server_name: str, tool: Any) -> ModelTool | None:
        """Offer one MCP tool; return it, or None when no unique name could be given."""
        name = self._unique_name(server_name, tool.name)
        if name is None:
            logger.warning(
                "tool %r of MCP server %s is not offered to the model: its function name collides",
                tool.name[:100],
                server_name,
            )
            return None
        spec = {
            "type": "function",
            "function": {
                "name": name,
                "description": tool.description or "",
                "parameters": tool.input_schema or {"type": "object"},
            },
        }
        self._by_name[name] = entry = ModelTool(name, server_name, tool.name, spec)
        return entry

    def specs(self) -> list[dict[str, Any]]:
        """The OpenAI function specs, one per offered tool."""
        return [entry.spec for entry in self._by_name.values()]

    def route(self, function_name: str) -> ModelTool | None:
        """The tool a function name the model called stands for, or None."""
        return self._by_name.get(function_name)

    def _unique_name(self, server_name: str, tool_name: str) -> str | None:
        exact = f"{server_name}{TOOL_NAME_SEPARATOR}{tool_name}"
        fits = len(exact) <= MAX_FUNCTION_NAME_CHARS and not _NOT_ALLOWED.search(exact)
        if fits and exact not in self._by_name:
            return exact
        pair = f"{server_name}\0{tool_name}".encode()
        suffix = "_" + hashlib.sha256(pair).hexdigest()[:_SUFFIX_HEX_CHARS]
        cleaned = _NOT_ALLOWED.sub("_", exact)[: MAX_FUNCTION_NAME_CHARS - len(suffix)]
        candidate = cleaned + suffix
        return candidate if candidate not in self._by_name else None
