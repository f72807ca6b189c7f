"""`@workos-inc/node`, unmodified, against the local AuthKit: authorize, code, session, refresh, logout.

The Node test runner runs tests/js/workos_node_signin.test.mjs with the settings
`@workos-inc/authkit-nextjs` passes to the SDK (WORKOS_API_HOSTNAME, WORKOS_API_PORT,
WORKOS_API_HTTPS=false, WORKOS_CLIENT_ID, WORKOS_API_KEY) pointing at a running emulator.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.signin.conftest import SignInWorld
from tests.signin.node_runner import requires_node_packages, run_node
from tests.support.local_authkit import APP_API_KEY, APP_CLIENT_ID, CALLBACK

pytestmark = requires_node_packages


async def test_workos_node_sdk_signs_a_user_in_refreshes_and_logs_out(world: SignInWorld) -> None:
    emulator = urlsplit(world.authkit.url)

    code, stdout, stderr = await run_node(
        "--test",
        "--test-reporter=tap",
        "workos_node_signin.test.mjs",
        env={
            "WORKOS_API_HOSTNAME": str(emulator.hostname),
            "WORKOS_API_PORT": str(emulator.port),
            "WORKOS_API_HTTPS": "false",
            "WORKOS_CLIENT_ID": APP_CLIENT_ID,
            "WORKOS_API_KEY": APP_API_KEY,
            "ATOMS_TEST_REDIRECT_URI": CALLBACK,
        },
    )

    assert code == 0, f"{stdout}\n{stderr}"
    assert "# fail 0" in stdout
    assert "# pass 7" in stdout
