"""The libraries and the auth service install and import on every Python the distributions
declare (3.11 to 3.13) that this machine has; `make test` runs on 3.11 itself.

An interpreter is looked for on PATH (`python3.12`) and among pyenv's versions; a version
this machine lacks is skipped, saying so.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_distribution_installs import AUTH_ONLY, _copy, _pip_install

pytestmark = pytest.mark.slow

IMPORTS = "import atoms_grpc, atoms_auth.server, atoms_auth.settings, atoms_cli; print('ok')"


def _interpreter(version: str) -> str | None:
    candidates = [shutil.which(f"python{version}") or ""]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True)
    candidates.append(f"/usr/bin/python{version}")
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys, venv; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if probe.returncode == 0 and probe.stdout.strip() == str(tuple(int(x) for x in version.split("."))):
            return candidate
    return None


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_the_kit_and_the_auth_service_install_and_import(version: str, tmp_path: Path) -> None:
    interpreter = _interpreter(version)
    if interpreter is None:
        pytest.skip(f"no Python {version} on this machine")
    subprocess.run([interpreter, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=120)
    bin_dir = tmp_path / "venv" / "bin"
    _pip_install(bin_dir, *(str(path) for path in _copy(AUTH_ONLY, tmp_path / "src")))
    imported = subprocess.run(
        [str(bin_dir / "python"), "-c", IMPORTS], capture_output=True, text=True, timeout=120, cwd="/"
    )
    assert imported.stdout.strip() == "ok", imported.stderr[-2000:]
    helped = subprocess.run(
        [str(bin_dir / "atoms"), "auth", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert helped.returncode == 0, helped.stderr
    assert "--port" in helped.stdout
