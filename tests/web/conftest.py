"""Fixtures of the web app's tests: its packages, its production build, Debian's Chromium.

Nothing here skips: `make test` installs the packages (`npm ci` in clients/web) and Chromium
(`make chromium`, Debian's package), and a missing piece fails with the command that brings it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from atoms_devtools.demo.web_stack import WEB_DIR

CHROMIUM = Path("/usr/bin/chromium")
BUILD_TIMEOUT_S = 600


def web_env() -> dict[str, str]:
    """The environment of npm and Next in tests: no settings of the app (nothing is read at build time)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WORKOS_", "NEXT_PUBLIC_", "ATOMS_"))
    }
    env["NEXT_TELEMETRY_DISABLED"] = "1"
    return env


@pytest.fixture(scope="session")
def web_packages() -> Path:
    """clients/web with its npm packages installed."""
    if not (WEB_DIR / "node_modules" / ".bin" / "next").exists():
        pytest.fail("the web app's packages are missing: run `make install` (npm ci in clients/web)")
    return WEB_DIR


@pytest.fixture(scope="session")
def built_web_app(web_packages: Path) -> subprocess.CompletedProcess[str]:
    """`next build` of clients/web with no setting in the environment (one build for every environment)."""
    return subprocess.run(
        ["npm", "run", "--silent", "build"],
        cwd=web_packages,
        env=web_env(),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; `make chromium` installs it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")
    return CHROMIUM
