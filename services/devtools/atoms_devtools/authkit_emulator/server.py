"""Running the emulator: in the foreground for `atoms dev authkit`, on the caller's loop for tests.

The listening socket is bound before the app is built, so the issuer URL names the port
actually bound, which matters when the port is 0 (pick any free port).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from atoms_devtools.authkit_emulator.app import build_emulator_app
from atoms_devtools.authkit_emulator.client_registry import OAuthClient
from atoms_devtools.authkit_emulator.directory import DevDirectory
from atoms_devtools.authkit_emulator.emulator_defaults import (
    DEFAULT_ACCESS_TOKEN_TTL_S,
    DEFAULT_JWKS_MAX_AGE_S,
    emulator_base_url,
)
from atoms_devtools.authkit_emulator.key_store import DEFAULT_KEYS_FILE, EmulatorKeyStore
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from atoms_grpc.loopback import is_loopback_host
from atoms_grpc.service_runner import run_until_signalled

logger = logging.getLogger(__name__)

_SHUTDOWN_GRACE_S = 5.0


@dataclass(frozen=True, slots=True)
class SignInOptions:
    """Who can sign in, for which application, and for how long their access tokens live.

    `directory` None: the default dev users, in memory. `application` None: `client_dev` with
    the documented development API key.
    """

    directory: DevDirectory | None = None
    application: OAuthClient | None = None
    access_token_ttl_s: int = DEFAULT_ACCESS_TOKEN_TTL_S
    clock: Callable[[], float] = field(default=time.time)


def bind_listener(*, host: str, port: int) -> socket.socket:
    """Bind and listen on `host`:`port` (0 picks a free port) and return the socket.

    Raises:
        OSError: the address is in use or cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


def run_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 8100,
    keys_file: Path = DEFAULT_KEYS_FILE,
    jwks_max_age_s: int = DEFAULT_JWKS_MAX_AGE_S,
    public_url: str | None = None,
    sign_in: SignInOptions | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the emulator in the foreground until SIGINT or SIGTERM, then stop gracefully.

    Args:
        host: the address to listen on; anything but loopback is logged as a warning.
        port: the TCP port; 0 picks a free one.
        keys_file: the key file, created with one key if missing.
        jwks_max_age_s: `Cache-Control` max-age of JWKS responses.
        public_url: the issuer URL when clients reach the emulator by another name (a container
            hostname, say); by default it is built from `host` and the bound port.
        sign_in: users, application and token lifetime of the sign-in flows.
        on_ready: called with the issuer URL once the socket is bound, before serving.

    Raises:
        KeyFileError: the key file is unreadable or cannot be created.
        OSError: the address cannot be bound.
    """
    store = EmulatorKeyStore(path=keys_file)
    if not is_loopback_host(host.strip("[]")):
        logger.warning(
            "the AuthKit emulator listens on %s, beyond this machine: anyone who reaches it can sign in "
            "as any dev user. It is a development tool; never let a production auth service trust it.",
            host,
        )
    listener = bind_listener(host=host, port=port)
    with listener:
        issuer = public_url or emulator_base_url(host=host, port=listener.getsockname()[1])
        server = _emulator_http_server(
            store, listener, host=host, issuer=issuer, jwks_max_age_s=jwks_max_age_s, sign_in=sign_in
        )
        if on_ready is not None:
            on_ready(issuer)
        uvloop.run(run_until_signalled(server, name="authkit emulator", grace_s=_SHUTDOWN_GRACE_S))


@contextlib.asynccontextmanager
async def running_emulator(
    store: EmulatorKeyStore,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    jwks_max_age_s: int = DEFAULT_JWKS_MAX_AGE_S,
    sign_in: SignInOptions | None = None,
) -> AsyncIterator[str]:
    """Run the emulator on the current event loop for the duration of the block.

    Args:
        store: the keys to serve and sign with.
        host: the address to listen on; loopback by default.
        port: the TCP port; 0 (the default) picks a free one.
        jwks_max_age_s: `Cache-Control` max-age of JWKS responses.
        sign_in: users, application, token lifetime and clock of the sign-in flows.

    Yields:
        The base URL, which is also the issuer, e.g. `http://127.0.0.1:54321`.

    Raises:
        RuntimeError: the server stopped or did not start within 10 seconds.
    """
    listener = bind_listener(host=host, port=port)
    with listener:
        base_url = emulator_base_url(host=host, port=listener.getsockname()[1])
        server = _emulator_http_server(
            store, listener, host=host, issuer=base_url, jwks_max_age_s=jwks_max_age_s, sign_in=sign_in
        )
        await server.start()
        try:
            logger.debug("authkit emulator listening on %s", base_url)
            yield base_url
        finally:
            await server.stop()


def _emulator_http_server(
    store: EmulatorKeyStore,
    listener: socket.socket,
    *,
    host: str,
    issuer: str,
    jwks_max_age_s: int,
    sign_in: SignInOptions | None,
) -> EmbeddedHttpServer:
    options = sign_in or SignInOptions()
    app = build_emulator_app(
        store,
        issuer=issuer,
        jwks_max_age_s=jwks_max_age_s,
        directory=options.directory,
        application=options.application,
        access_token_ttl_s=options.access_token_ttl_s,
        clock=options.clock,
    )
    # uvicorn logs at WARNING: its per-start INFO lines would only repeat the announcement.
    return EmbeddedHttpServer(
        app, host=host, sockets=[listener], grace_s=_SHUTDOWN_GRACE_S, lifespan="off", log_level="warning"
    )
