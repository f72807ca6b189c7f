"""`atoms`: the umbrella command line, one sub-command per service and tool.

Each area adds its own sub-commands through a `register(subparsers)` function and sets
`handler` on its parsers; this module only dispatches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from services.agent import cli as agent_cli
from services.agent_client import cli as agent_client_cli
from services.auth import cli as auth_cli
from services.authkit_emulator import cli as emulator_cli
from services.demo import cli as demo_cli
from services.loadgen import cli as loadgen_cli
from services.mcp import cli as mcp_cli


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every registered sub-command."""
    parser = argparse.ArgumentParser(prog="atoms", description="Atoms services and developer tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    auth_cli.register(commands)
    mcp_cli.register(commands)
    agent_cli.register(commands)
    agent_client_cli.register(commands)
    emulator_cli.register(commands)
    demo_cli.register(commands)
    loadgen_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen sub-command; return the exit code."""
    parser = build_parser()
    options = parser.parse_args(argv)
    return int(options.handler(options) or 0)


if __name__ == "__main__":
    sys.exit(main())
