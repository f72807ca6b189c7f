"""The local AuthKit's default settings, in one light module.

The command line shows these in its help and the emulator's modules use them; keeping them
here lets `atoms --help` describe `atoms dev` without loading the emulator.
"""

from __future__ import annotations

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8100
DEFAULT_JWKS_MAX_AGE_S = 300
DEFAULT_CLIENT_ID = "client_dev"
# A development-only secret, documented in docs/local-authkit.md; the emulator is no vault.
DEFAULT_API_KEY = "sk_test_atoms_local_authkit"
DEFAULT_REDIRECT_URIS = ("http://localhost:3000/callback", "http://127.0.0.1:3000/callback")
DEFAULT_ACCESS_TOKEN_TTL_S = 300
# A new key is published this long before it signs: longer than the auth service's 10 s
# cooldown on refetching the JWKS for an unknown kid, so its first token never hits that cooldown.
DEFAULT_PUBLISH_LEAD_S = 15.0
# The old key stays published this long after the new one starts signing: at least the default
# token lifetime, so tokens it signed just before the switch still verify until they expire.
DEFAULT_GRACE_S = 300.0
_WILDCARD_TO_LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104


def emulator_base_url(*, host: str, port: int) -> str:
    """Return the URL a local client uses to reach `host`:`port`, without a trailing slash.

    A wildcard host (0.0.0.0, ::) is not reachable as such, so the loopback address stands in.
    """
    reachable = _WILDCARD_TO_LOOPBACK.get(host, host)
    if ":" in reachable:
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}"
