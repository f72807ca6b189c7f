"""`atoms dev token` finds the key file the emulator uses, or refuses; it never creates keys (issue 11).

`atoms dev token` run outside the repository root used to create a new key file silently (the
default path was relative to the current directory) holding keys that no emulator publishes,
so no auth service trusted its tokens. Every test here runs the real command in a subprocess.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import httpx
import jwt
import pytest

from atoms_devtools.authkit_emulator import EmulatorKeyStore

REPO_ROOT = Path(__file__).resolve().parents[2]
_NO_FILE_VARIABLES = {
    k: v for k, v in os.environ.items() if k not in ("ATOMS_AUTHKIT_KEYS_FILE", "ATOMS_AUTHKIT_USERS_FILE")
}


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory that looks like an Atoms checkout (its markers), with a subdirectory to work in."""
    root = tmp_path / "atoms"
    (root / "services" / "devtools" / "atoms_devtools" / "authkit_emulator").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'atoms-services'\n")
    (root / "docs" / "notes").mkdir(parents=True)
    return root


async def _atoms(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_cli",
        *args,
        cwd=cwd,
        env={
            **_NO_FILE_VARIABLES,
            "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'gen' / 'python'}",
            **(env or {}),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


def _entries(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


async def test_dev_token_outside_the_repository_refuses_in_one_line_and_creates_nothing(
    tmp_path: Path,
) -> None:
    code, out, err = await _atoms("dev", "token", "--sub", "user_1", cwd=tmp_path)

    assert (code, out) == (1, "")
    assert len(err.strip().splitlines()) == 1
    assert "--keys-file" in err
    assert str(tmp_path) in err
    assert _entries(tmp_path) == []


async def test_dev_token_with_a_missing_key_file_refuses_and_creates_nothing(tmp_path: Path) -> None:
    code, out, err = await _atoms("dev", "token", "--sub", "user_1", "--keys-file", "keys.json", cwd=tmp_path)

    assert (code, out) == (1, "")
    assert "atoms dev authkit" in err
    assert _entries(tmp_path) == []


async def test_dev_rotate_with_a_missing_key_file_refuses_and_creates_nothing(tmp_path: Path) -> None:
    code, _, err = await _atoms("dev", "rotate", "--keys-file", "keys.json", cwd=tmp_path)

    assert code == 1
    assert "no key file" in err
    assert _entries(tmp_path) == []


async def test_dev_token_in_a_subdirectory_signs_with_the_repositorys_key_file(checkout: Path) -> None:
    keys = EmulatorKeyStore(path=checkout / "var" / "authkit" / "keys.json")

    code, out, err = await _atoms("dev", "token", "--sub", "user_1", cwd=checkout / "docs" / "notes")

    assert code == 0, err
    assert jwt.get_unverified_header(out.strip())["kid"] == keys.signing_key().kid
    assert not (checkout / "docs" / "notes" / "var").exists()


async def test_dev_token_uses_the_key_file_the_variable_names(tmp_path: Path) -> None:
    keys = EmulatorKeyStore(path=tmp_path / "state" / "keys.json")

    code, out, _ = await _atoms(
        "dev", "token", "--sub", "user_1", cwd=tmp_path, env={"ATOMS_AUTHKIT_KEYS_FILE": str(keys.path)}
    )

    assert code == 0
    assert jwt.get_unverified_header(out.strip())["kid"] == keys.signing_key().kid


async def test_emulator_and_dev_token_run_from_different_directories_agree_on_the_keys(
    checkout: Path,
) -> None:
    emulator = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atoms_cli",
        "dev",
        "authkit",
        "--port",
        "0",
        cwd=checkout,
        env={**_NO_FILE_VARIABLES, "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'gen' / 'python'}"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert emulator.stdout is not None
        announcement = (await asyncio.wait_for(emulator.stdout.readline(), timeout=30)).decode()
        issuer = re.search(r"listening on (\S+);", announcement).group(1)  # type: ignore[union-attr]
        code, out, err = await _atoms(
            "dev", "token", "--sub", "user_1", "--issuer", issuer, cwd=checkout / "docs"
        )
        async with httpx.AsyncClient(timeout=5.0) as http:
            published = (await http.get(f"{issuer}/oauth2/jwks")).json()
    finally:
        emulator.terminate()
        await asyncio.wait_for(emulator.wait(), timeout=30)

    assert code == 0, err
    kid = jwt.get_unverified_header(out.strip())["kid"]
    assert kid in [key["kid"] for key in published["keys"]]
    assert (checkout / "var" / "authkit" / "keys.json").is_file()
    assert (checkout / "var" / "authkit" / "users.json").is_file()
