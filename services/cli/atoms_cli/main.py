"""`atoms`: the umbrella command line, one sub-command per service and tool.

Each Atoms distribution names a `register(subparsers)` function in the `atoms.commands`
entry-point group of its `pyproject.toml`; this module finds the installed ones, lets each
add its sub-commands and dispatches to the `handler` the chosen parser set. A machine with
only the auth service installed has only `atoms auth`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

COMMANDS_GROUP = "atoms.commands"
# The order of `atoms --help`; a distribution not named here is listed after these.
_HELP_ORDER = ("auth", "mcp", "agent", "client", "dev", "demo", "loadgen")


def installed_commands() -> list[EntryPoint]:
    """The `atoms.commands` entry points of the installed distributions, in help order."""
    found = {entry.name: entry for entry in entry_points(group=COMMANDS_GROUP)}
    ordered = [found.pop(name) for name in _HELP_ORDER if name in found]
    return ordered + sorted(found.values(), key=lambda entry: entry.name)


def build_parser(commands: Sequence[EntryPoint] | None = None) -> argparse.ArgumentParser:
    """Return the parser with the sub-commands of every installed Atoms distribution."""
    parser = argparse.ArgumentParser(prog="atoms", description="Atoms services and developer tools.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for entry in installed_commands() if commands is None else commands:
        register: Callable[[Any], None] = entry.load()
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen sub-command; return the exit code."""
    parser = build_parser()
    options = parser.parse_args(argv)
    return int(options.handler(options) or 0)


if __name__ == "__main__":
    sys.exit(main())
