"""`python -m atoms_mcp serve ...`: the `atoms mcp` commands without the `atoms` program."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from atoms_mcp.cli import add_serve_command


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the chosen command and return its exit code."""
    parser = argparse.ArgumentParser(prog="python -m atoms_mcp", description="The Atoms MCP service.")
    add_serve_command(parser.add_subparsers(dest="mcp_command", required=True, metavar="COMMAND"))
    options = parser.parse_args(argv)
    return int(options.handler(options))


if __name__ == "__main__":
    sys.exit(main())
