"""Where the emulator's files are: one rule shared by `atoms dev authkit` and every other `atoms dev` command.

The key file, in order of precedence:
1. `--keys-file PATH`;
2. `ATOMS_AUTHKIT_KEYS_FILE`;
3. `var/authkit/keys.json` under the Atoms repository holding the current directory (the
   nearest parent with a `pyproject.toml` and `services/devtools/atoms_devtools/authkit_emulator/`).
Outside the repository, with neither flag nor variable, the commands refuse in one line that
says where they looked and what to pass: a key file created elsewhere would hold keys that no
running emulator publishes and so no auth service trusts.

The users file: `--users-file`, then `ATOMS_AUTHKIT_USERS_FILE`, then `users.json` next to the
key file, so one directory holds an emulator's whole state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

KEYS_FILE_VARIABLE = "ATOMS_AUTHKIT_KEYS_FILE"
USERS_FILE_VARIABLE = "ATOMS_AUTHKIT_USERS_FILE"
STATE_DIRECTORY = Path("var/authkit")
KEYS_FILE_NAME = "keys.json"
USERS_FILE_NAME = "users.json"
_REPOSITORY_MARKERS = ("pyproject.toml", "services/devtools/atoms_devtools/authkit_emulator")


class EmulatorFilesNotFoundError(Exception):
    """No flag, no variable, and the current directory is not inside the Atoms repository."""


@dataclass(frozen=True, slots=True)
class EmulatorFiles:
    """The files one emulator's state lives in."""

    keys_file: Path
    users_file: Path


def resolve_emulator_files(
    *,
    keys_flag: Path | None,
    users_flag: Path | None,
    environ: Mapping[str, str],
    cwd: Path,
) -> EmulatorFiles:
    """Apply the rule of the module docstring.

    Args:
        keys_flag: the `--keys-file` value, if given.
        users_flag: the `--users-file` value, if given.
        environ: the environment to read the two variables from.
        cwd: where the command runs; relative paths are taken from here.

    Returns:
        The key file and the users file (neither needs to exist yet).

    Raises:
        EmulatorFilesNotFoundError: nothing names the key file and `cwd` is outside the repository.
    """
    keys_file = _keys_file(keys_flag, environ, cwd)
    if users_flag is not None:
        users_file = cwd / users_flag
    elif environ.get(USERS_FILE_VARIABLE):
        users_file = cwd / environ[USERS_FILE_VARIABLE]
    else:
        users_file = keys_file.with_name(USERS_FILE_NAME)
    return EmulatorFiles(keys_file=keys_file, users_file=users_file)


def find_repository_root(start: Path) -> Path | None:
    """Return the nearest directory at or above `start` that is an Atoms checkout, or None."""
    for directory in (start, *start.parents):
        if all((directory / marker).exists() for marker in _REPOSITORY_MARKERS):
            return directory
    return None


def _keys_file(flag: Path | None, environ: Mapping[str, str], cwd: Path) -> Path:
    if flag is not None:
        return cwd / flag
    if environ.get(KEYS_FILE_VARIABLE):
        return cwd / environ[KEYS_FILE_VARIABLE]
    root = find_repository_root(cwd)
    if root is None:
        raise EmulatorFilesNotFoundError(
            f"no emulator key file: {cwd} is not inside the Atoms repository (no pyproject.toml with "
            "services/devtools/atoms_devtools/authkit_emulator/ in it or above it) and "
            f"{KEYS_FILE_VARIABLE} is not set; "
            "pass --keys-file with the file `atoms dev authkit` uses"
        )
    return root / STATE_DIRECTORY / KEYS_FILE_NAME
