"""OfferedTools: which Atoms tools a request offers, under the function names it gave them.

The agent names a tool `server__tool` (services/agent/atoms_agent/model_tool_names.py), so the tool's own
name is what follows the last `__`; a client that offers plain names (`whoami`) works too.
When several servers offer a tool of one name, the `atoms` server's wins, else the first.
A name the agent had to shorten or clean carries a hash suffix and is simply not recognised.
"""

from __future__ import annotations

from collections.abc import Iterable

ATOMS_SERVER = "atoms"
SEPARATOR = "__"


def tool_name_of(function_name: str) -> str:
    """The tool a function name stands for: `atoms__whoami` -> `whoami`, `whoami` -> `whoami`."""
    _, separator, tool = function_name.rpartition(SEPARATOR)
    return tool if separator and tool else function_name


class OfferedTools:
    """The function name to call for each offered tool."""

    def __init__(self, function_names: Iterable[str]) -> None:
        """Args:
        function_names: the `function.name` of each tool the request offers, in its order.
        """
        self._function_by_tool: dict[str, str] = {}
        for function_name in function_names:
            tool = tool_name_of(function_name)
            server = function_name[: -len(tool)].removesuffix(SEPARATOR)
            if tool not in self._function_by_tool or server == ATOMS_SERVER:
                self._function_by_tool[tool] = function_name

    def __contains__(self, tool: object) -> bool:
        return tool in self._function_by_tool

    def __len__(self) -> int:
        return len(self._function_by_tool)

    def function_for(self, tool: str) -> str | None:
        """The function name that calls `tool`, or None when no offered function does."""
        return self._function_by_tool.get(tool)
