"""What every `atoms dev` command shares: the file options, their resolution, list parsing, failing."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from atoms_devtools.authkit_emulator.emulator_files import EmulatorFiles, resolve_emulator_files

EXIT_FAILURE = 1
EXIT_USAGE = 2


def add_file_options(parser: argparse.ArgumentParser, *, users: bool) -> None:
    """Add `--keys-file` (and `--users-file`) with the shared resolution rule in their help."""
    parser.add_argument(
        "--keys-file",
        type=Path,
        help="the emulator's key file (default: $ATOMS_AUTHKIT_KEYS_FILE, else var/authkit/keys.json "
        "of the repository holding the current directory)",
    )
    if users:
        parser.add_argument(
            "--users-file",
            type=Path,
            help="the dev users file (default: $ATOMS_AUTHKIT_USERS_FILE, else users.json next to "
            "the key file)",
        )


def files_from(options: argparse.Namespace) -> EmulatorFiles:
    """Resolve the key and users files of a parsed command line (see `emulator_files`).

    Raises:
        EmulatorFilesNotFoundError: nothing names the key file and the current directory is
            outside the repository.
    """
    return resolve_emulator_files(
        keys_flag=options.keys_file,
        users_flag=getattr(options, "users_file", None),
        environ=os.environ,
        cwd=Path.cwd(),
    )


def comma_list(value: str) -> tuple[str, ...]:
    """Split `a, b,c` into `("a", "b", "c")`, dropping empty items."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def fail(message: str, *, code: int = EXIT_FAILURE) -> int:
    """Print `atoms dev: MESSAGE` on one line to stderr and return `code`."""
    print(f"atoms dev: {message}", file=sys.stderr)
    return code
