"""One rule finds the emulator's files for every `atoms dev` command (see also test_dev_token_key_file.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from atoms_devtools.authkit_emulator import (
    EmulatorFilesNotFoundError,
    find_repository_root,
    resolve_emulator_files,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory that looks like an Atoms checkout (its markers), with a subdirectory to work in."""
    root = tmp_path / "atoms"
    (root / "services" / "devtools" / "atoms_devtools" / "authkit_emulator").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'atoms-services'\n")
    (root / "docs" / "notes").mkdir(parents=True)
    return root


def test_the_flag_wins_over_the_variable_which_wins_over_the_repository(checkout: Path) -> None:
    cwd = checkout / "docs"
    environ = {"ATOMS_AUTHKIT_KEYS_FILE": "/elsewhere/keys.json"}

    flagged = resolve_emulator_files(keys_flag=Path("k.json"), users_flag=None, environ=environ, cwd=cwd)
    variable = resolve_emulator_files(keys_flag=None, users_flag=None, environ=environ, cwd=cwd)
    repository = resolve_emulator_files(keys_flag=None, users_flag=None, environ={}, cwd=cwd)

    assert flagged.keys_file == cwd / "k.json"
    assert variable.keys_file == Path("/elsewhere/keys.json")
    assert repository.keys_file == checkout / "var" / "authkit" / "keys.json"


def test_the_users_file_lives_next_to_the_key_file_unless_named(checkout: Path) -> None:
    default = resolve_emulator_files(
        keys_flag=Path("/x/keys.json"), users_flag=None, environ={}, cwd=checkout
    )
    named = resolve_emulator_files(
        keys_flag=None, users_flag=None, environ={"ATOMS_AUTHKIT_USERS_FILE": "/y/u.json"}, cwd=checkout
    )

    assert default.users_file == Path("/x/users.json")
    assert named.users_file == Path("/y/u.json")


def test_the_repository_is_found_from_any_directory_inside_it(checkout: Path) -> None:
    assert find_repository_root(checkout / "docs" / "notes") == checkout
    assert (
        find_repository_root(REPO_ROOT / "services" / "devtools" / "atoms_devtools" / "authkit_emulator")
        == REPO_ROOT
    )


def test_outside_the_repository_without_flag_or_variable_nothing_is_resolved(tmp_path: Path) -> None:
    with pytest.raises(EmulatorFilesNotFoundError) as raised:
        resolve_emulator_files(keys_flag=None, users_flag=None, environ={}, cwd=tmp_path)

    assert str(tmp_path) in str(raised.value)
    assert "--keys-file" in str(raised.value)
