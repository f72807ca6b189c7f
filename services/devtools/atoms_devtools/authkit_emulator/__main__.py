"""`python -m atoms_devtools.authkit_emulator COMMAND`: the `atoms dev` commands without the `atoms` program.

Useful where only the emulator is wanted (a container running just `authkit`, say).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from atoms_devtools.authkit_emulator.cli import add_dev_commands


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the chosen command and return its exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m atoms_devtools.authkit_emulator", description="The local AuthKit (WorkOS) emulator."
    )
    add_dev_commands(parser.add_subparsers(dest="dev_command", required=True, metavar="COMMAND"))
    options = parser.parse_args(argv)
    return int(options.handler(options))


if __name__ == "__main__":
    sys.exit(main())
