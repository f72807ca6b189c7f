"""The web app builds with no setting in the environment, and its own unit tests pass.

`next build` failed with `TypeError: Invalid URL` when a route built its AgentClient from an
environment variable at module load; the app reads every setting at request time.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.web.conftest import web_env


def test_next_build_succeeds_without_any_setting(built_web_app: subprocess.CompletedProcess[str]) -> None:
    output = built_web_app.stdout + built_web_app.stderr

    assert built_web_app.returncode == 0, output
    for route in ("/api/chat", "/callback", "/login"):
        assert route in output
    assert "Proxy" in output


def test_the_web_apps_unit_tests_pass(web_packages: Path) -> None:
    result = subprocess.run(
        ["npm", "test", "--silent"],
        cwd=web_packages,
        env=web_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
