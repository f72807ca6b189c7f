"""`atoms dev ...`: run the AuthKit emulator, mint tokens, rotate keys, make internal tokens.

    atoms dev authkit [--host H] [--port P] [--keys-file F] [--jwks-max-age S] [--public-url URL]
    atoms dev token --sub USER [--org ORG] [--role R] [--permissions a,b] [--scopes x,y] [--ttl S]
                    [--aud URL] [--client-id ID] [--issuer URL] [--keys-file F]
    atoms dev rotate [--keys-file F] [--publish-lead S] [--grace S]
    atoms dev internal-token

`token` and `rotate` work on the key file directly, so they need no running emulator; a
running one notices the changed file on its next request.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from services.atoms_grpc.log_format import configure_logging
from services.authkit_emulator.app import DEFAULT_JWKS_MAX_AGE_S
from services.authkit_emulator.key_store import (
    DEFAULT_GRACE_S,
    DEFAULT_KEYS_FILE,
    DEFAULT_PUBLISH_LEAD_S,
    EmulatorKeyStore,
    KeyFileError,
    NoSigningKeyError,
)
from services.authkit_emulator.server import emulator_base_url, run_emulator
from services.authkit_emulator.token_minting import mint_token

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8100
DEFAULT_ISSUER = emulator_base_url(host=DEFAULT_HOST, port=DEFAULT_PORT)
DEV_CLIENT_ID = "client_dev"
INTERNAL_TOKEN_BYTES = 32

_EXIT_FAILURE = 1
_EXIT_USAGE = 2


def register(subparsers: SubParsers) -> None:
    """Add the `dev` command group to the `atoms` program.

    Args:
        subparsers: the `atoms` program's sub-command collection.
    """
    dev = subparsers.add_parser("dev", help="local development tools (AuthKit emulator, tokens)")
    add_dev_commands(dev.add_subparsers(dest="dev_command", required=True, metavar="DEV_COMMAND"))


def add_dev_commands(commands: SubParsers) -> None:
    """Add `authkit`, `token`, `rotate` and `internal-token` to a sub-command collection.

    Args:
        commands: where to add them: `atoms dev`, or the emulator's own `python -m` entry.
    """
    _add_authkit(commands)
    _add_token(commands)
    _add_rotate(commands)
    internal = commands.add_parser("internal-token", help="print a new random ATOMS_INTERNAL_TOKEN value")
    internal.set_defaults(handler=print_internal_token)


def run_authkit(options: argparse.Namespace) -> int:
    """Run the emulator in the foreground until interrupted; return the exit code."""
    configure_logging(service="authkit-emulator")
    try:
        run_emulator(
            host=options.host,
            port=options.port,
            keys_file=options.keys_file,
            jwks_max_age_s=options.jwks_max_age,
            public_url=options.public_url,
            on_ready=_announce,
        )
    except ValueError as err:
        return _fail(str(err), code=_EXIT_USAGE)
    except KeyFileError as err:
        return _fail(str(err))
    except OSError as err:
        return _fail(f"cannot listen on {options.host}:{options.port}: {err.strerror or err}")
    except KeyboardInterrupt:
        pass
    return 0


def print_token(options: argparse.Namespace) -> int:
    """Mint a token from the key file and print only the token; return the exit code."""
    try:
        token = mint_token(
            EmulatorKeyStore(path=options.keys_file),
            issuer=options.issuer.rstrip("/"),
            subject=options.sub,
            org_id=options.org,
            role=options.role,
            permissions=options.permissions,
            scopes=options.scopes,
            ttl_s=options.ttl,
            audience=options.aud,
            client_id=options.client_id,
        )
    except ValueError as err:
        return _fail(str(err), code=_EXIT_USAGE)
    except (KeyFileError, NoSigningKeyError) as err:
        return _fail(str(err))
    print(token)
    return 0


def rotate_keys(options: argparse.Namespace) -> int:
    """Rotate the key file, print the new kid (details go to stderr); return the exit code."""
    try:
        rotation = EmulatorKeyStore(path=options.keys_file).rotate(
            publish_lead_s=options.publish_lead, grace_s=options.grace
        )
    except ValueError as err:
        return _fail(str(err), code=_EXIT_USAGE)
    except KeyFileError as err:
        return _fail(str(err))
    print(rotation.kid)
    print(f"{rotation.kid} is published now and signs in {options.publish_lead:g}s", file=sys.stderr)
    if rotation.previous_kid is not None:
        retire_in = options.publish_lead + options.grace
        print(f"{rotation.previous_kid} leaves the JWKS in {retire_in:g}s", file=sys.stderr)
    return 0


def print_internal_token(options: argparse.Namespace) -> int:
    """Print a new random internal service token (43 URL-safe characters); return 0."""
    print(secrets.token_urlsafe(INTERNAL_TOKEN_BYTES))
    return 0


def _add_authkit(commands: SubParsers) -> None:
    parser = commands.add_parser("authkit", help="run the local AuthKit (WorkOS) emulator")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port; 0 picks a free one")
    _add_keys_file(parser)
    parser.add_argument(
        "--jwks-max-age",
        type=int,
        default=DEFAULT_JWKS_MAX_AGE_S,
        help="Cache-Control max-age of JWKS responses, seconds (default %(default)s)",
    )
    parser.add_argument(
        "--public-url",
        help="issuer URL when clients reach the emulator by another name (e.g. in a container)",
    )
    parser.set_defaults(handler=run_authkit)


def _add_token(commands: SubParsers) -> None:
    parser = commands.add_parser("token", help="mint an AuthKit-shaped access token offline")
    parser.add_argument("--sub", required=True, help="the user id (sub claim)")
    parser.add_argument("--org", help="the organization id (org_id claim)")
    parser.add_argument("--role", default="member", help="the role claim (default %(default)s)")
    parser.add_argument("--permissions", type=_comma_list, default=(), help="comma-separated permissions")
    parser.add_argument("--scopes", type=_comma_list, default=(), help="comma-separated scopes")
    parser.add_argument("--ttl", type=int, default=300, help="lifetime in seconds (default %(default)s)")
    parser.add_argument("--aud", help="the aud claim (omitted by default, as AuthKit does)")
    parser.add_argument("--client-id", help="the client_id claim")
    parser.add_argument("--issuer", default=DEFAULT_ISSUER, help="the iss claim (default %(default)s)")
    _add_keys_file(parser)
    parser.set_defaults(handler=print_token)


def _add_rotate(commands: SubParsers) -> None:
    parser = commands.add_parser("rotate", help="add a new signing key and schedule the old one's retirement")
    _add_keys_file(parser)
    parser.add_argument(
        "--publish-lead",
        type=float,
        default=DEFAULT_PUBLISH_LEAD_S,
        help="seconds the new key is published before it signs (default %(default)s)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE_S,
        help="seconds the old key stays published after the switch (default %(default)s)",
    )
    parser.set_defaults(handler=rotate_keys)


def _add_keys_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keys-file", type=Path, default=DEFAULT_KEYS_FILE, help="the key file (default %(default)s)"
    )


def _announce(issuer: str) -> None:
    print(
        f"authkit emulator listening on {issuer}; configure the auth service with "
        f"AUTHKIT_DOMAIN={issuer} (JWKS {issuer}/oauth2/jwks) or "
        f"WORKOS_CLIENT_ID={DEV_CLIENT_ID} WORKOS_API_BASE_URL={issuer}/ "
        f"(JWKS {issuer}/sso/jwks/{DEV_CLIENT_ID})",
        flush=True,
    )


def _comma_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _fail(message: str, *, code: int = _EXIT_FAILURE) -> int:
    print(f"atoms dev: {message}", file=sys.stderr)
    return code
