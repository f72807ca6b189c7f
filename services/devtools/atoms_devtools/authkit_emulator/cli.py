"""`atoms dev ...`: run the local AuthKit, mint tokens, rotate keys, manage dev users, make internal tokens.

    atoms dev authkit [--host H] [--port P] [--keys-file F] [--users-file F] [--jwks-max-age S]
                      [--public-url URL] [--client-id ID] [--redirect-uri URI ...] [--access-token-ttl S]
    atoms dev token --sub USER [--org ORG] [--role R] [--permissions a,b] [--scopes x,y] [--ttl S]
                    [--aud URL] [--client-id ID] [--issuer URL] [--keys-file F]
    atoms dev rotate [--keys-file F] [--publish-lead S] [--grace S]
    atoms dev user add EMAIL --org ORG [--role R] [--permissions a,b] [--org-name NAME] [--users-file F]
    atoms dev user list [--users-file F]
    atoms dev internal-token
    atoms dev model [--host H] [--port P]          (services/devtools/atoms_devtools/dev_model)

Every command finds the emulator's files by the rule of `emulator_files` (flag, environment
variable, then `var/authkit/` of the repository holding the current directory). `token` and
`rotate` work on the key file directly and never create it; a running emulator notices a
changed file on its next request.

This module is the emulator's entry point: it alone reads the environment (the file
variables, `WORKOS_CLIENT_ID` and `WORKOS_API_KEY`) and passes the values down.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from typing import TYPE_CHECKING

from atoms_devtools.authkit_emulator.cli_options import (
    EXIT_USAGE,
    add_file_options,
    comma_list,
    fail,
    files_from,
)
from atoms_devtools.authkit_emulator.emulator_defaults import (
    DEFAULT_ACCESS_TOKEN_TTL_S,
    DEFAULT_API_KEY,
    DEFAULT_CLIENT_ID,
    DEFAULT_GRACE_S,
    DEFAULT_HOST,
    DEFAULT_JWKS_MAX_AGE_S,
    DEFAULT_PORT,
    DEFAULT_PUBLISH_LEAD_S,
    DEFAULT_REDIRECT_URIS,
    emulator_base_url,
)
from atoms_devtools.authkit_emulator.emulator_files import EmulatorFilesNotFoundError
from atoms_devtools.authkit_emulator.user_cli import add_user_commands
from atoms_devtools.dev_model.cli import add_model_command

if TYPE_CHECKING:
    from atoms_devtools.authkit_emulator.emulator_files import EmulatorFiles

    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

DEFAULT_ISSUER = emulator_base_url(host=DEFAULT_HOST, port=DEFAULT_PORT)
DEV_CLIENT_ID = DEFAULT_CLIENT_ID
INTERNAL_TOKEN_BYTES = 32


def register(subparsers: SubParsers) -> None:
    """Add the `dev` command group to the `atoms` program.

    Args:
        subparsers: the `atoms` program's sub-command collection.
    """
    dev = subparsers.add_parser(
        "dev", help="local development tools (AuthKit emulator, dev model, tokens, dev users)"
    )
    commands = dev.add_subparsers(dest="dev_command", required=True, metavar="DEV_COMMAND")
    add_dev_commands(commands)
    # `atoms dev model` (atoms_devtools.dev_model); not in the emulator's own entry point
    add_model_command(commands)


def add_dev_commands(commands: SubParsers) -> None:
    """Add `authkit`, `token`, `rotate`, `user` and `internal-token` to a sub-command collection.

    Args:
        commands: where to add them: `atoms dev`, or the emulator's own `python -m` entry.
    """
    _add_authkit(commands)
    _add_token(commands)
    _add_rotate(commands)
    add_user_commands(commands)
    internal = commands.add_parser("internal-token", help="print a new random ATOMS_INTERNAL_TOKEN value")
    internal.set_defaults(handler=print_internal_token)


def run_authkit(options: argparse.Namespace) -> int:
    """Run the emulator in the foreground until interrupted; return the exit code."""
    # The emulator's modules load here, when the command runs, not for `atoms --help`.
    from atoms_devtools.authkit_emulator.client_registry import application_client
    from atoms_devtools.authkit_emulator.directory import DevDirectory, DirectoryFileError
    from atoms_devtools.authkit_emulator.key_store import KeyFileError
    from atoms_devtools.authkit_emulator.server import SignInOptions, run_emulator
    from atoms_grpc.log_format import configure_logging

    configure_logging(service="authkit-emulator")
    try:
        files = files_from(options)
        client_id = options.client_id or os.environ.get("WORKOS_CLIENT_ID") or DEFAULT_CLIENT_ID
        application = application_client(
            client_id=client_id,
            api_key=os.environ.get("WORKOS_API_KEY") or DEFAULT_API_KEY,
            redirect_uris=tuple(options.redirect_uri or DEFAULT_REDIRECT_URIS),
        )
        directory = DevDirectory(path=files.users_file)
        run_emulator(
            host=options.host,
            port=options.port,
            keys_file=files.keys_file,
            jwks_max_age_s=options.jwks_max_age,
            public_url=options.public_url,
            sign_in=SignInOptions(
                directory=directory, application=application, access_token_ttl_s=options.access_token_ttl
            ),
            on_ready=lambda issuer: _announce(issuer, client_id, files),
        )
    except ValueError as err:
        return fail(str(err), code=EXIT_USAGE)
    except (EmulatorFilesNotFoundError, KeyFileError, DirectoryFileError) as err:
        return fail(str(err))
    except OSError as err:
        return fail(f"cannot listen on {options.host}:{options.port}: {err.strerror or err}")
    except KeyboardInterrupt:
        pass
    return 0


def print_token(options: argparse.Namespace) -> int:
    """Mint a token from the emulator's existing key file and print only the token."""
    # The emulator's modules load here, when the command runs, not for `atoms --help`.
    from atoms_devtools.authkit_emulator.key_store import EmulatorKeyStore, KeyFileError, NoSigningKeyError
    from atoms_devtools.authkit_emulator.token_minting import mint_token

    try:
        token = mint_token(
            EmulatorKeyStore(path=files_from(options).keys_file, create=False),
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
        return fail(str(err), code=EXIT_USAGE)
    except (EmulatorFilesNotFoundError, KeyFileError, NoSigningKeyError) as err:
        return fail(str(err))
    print(token)
    return 0


def rotate_keys(options: argparse.Namespace) -> int:
    """Rotate the emulator's existing key file, print the new kid (details go to stderr)."""
    # The emulator's modules load here, when the command runs, not for `atoms --help`.
    from atoms_devtools.authkit_emulator.key_store import EmulatorKeyStore, KeyFileError

    for name, value in (("publish_lead_s", options.publish_lead), ("grace_s", options.grace)):
        if not value >= 0 or value == float("inf"):
            return fail(f"{name} must be a finite number of seconds >= 0, got {value!r}", code=EXIT_USAGE)
    try:
        store = EmulatorKeyStore(path=files_from(options).keys_file, create=False)
        rotation = store.rotate(publish_lead_s=options.publish_lead, grace_s=options.grace)
    except (EmulatorFilesNotFoundError, KeyFileError) as err:
        return fail(str(err))
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
    add_file_options(parser, users=True)
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
    parser.add_argument(
        "--client-id",
        help=f"the WorkOS application's client id (default: $WORKOS_CLIENT_ID, else {DEFAULT_CLIENT_ID}); "
        "its API key is $WORKOS_API_KEY, else the development key of docs/local-authkit.md",
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        help="a redirect URI of the application (repeatable; default "
        f"{' and '.join(DEFAULT_REDIRECT_URIS)}; any port matches on loopback)",
    )
    parser.add_argument(
        "--access-token-ttl",
        type=int,
        default=DEFAULT_ACCESS_TOKEN_TTL_S,
        help="lifetime of signed-in users' access tokens, seconds (default %(default)s)",
    )
    parser.set_defaults(handler=run_authkit)


def _add_token(commands: SubParsers) -> None:
    parser = commands.add_parser("token", help="mint an AuthKit-shaped access token offline")
    parser.add_argument("--sub", required=True, help="the user id (sub claim)")
    parser.add_argument("--org", help="the organization id (org_id claim)")
    parser.add_argument("--role", default="member", help="the role claim (default %(default)s)")
    parser.add_argument("--permissions", type=comma_list, default=(), help="comma-separated permissions")
    parser.add_argument("--scopes", type=comma_list, default=(), help="comma-separated scopes")
    parser.add_argument("--ttl", type=int, default=300, help="lifetime in seconds (default %(default)s)")
    parser.add_argument("--aud", help="the aud claim (omitted by default, as AuthKit does)")
    parser.add_argument("--client-id", help="the client_id claim")
    parser.add_argument("--issuer", default=DEFAULT_ISSUER, help="the iss claim (default %(default)s)")
    add_file_options(parser, users=False)
    parser.set_defaults(handler=print_token)


def _add_rotate(commands: SubParsers) -> None:
    parser = commands.add_parser("rotate", help="add a new signing key and schedule the old one's retirement")
    add_file_options(parser, users=False)
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


def _announce(issuer: str, client_id: str, files: EmulatorFiles) -> None:
    print(
        f"authkit emulator listening on {issuer}; configure the auth service with "
        f"AUTHKIT_DOMAIN={issuer} (JWKS {issuer}/oauth2/jwks) or "
        f"WORKOS_CLIENT_ID={client_id} WORKOS_API_BASE_URL={issuer}/ "
        f"(JWKS {issuer}/sso/jwks/{client_id})",
        flush=True,
    )
    print(
        f"development only, anyone who reaches it signs in as any dev user; "
        f"sign-in: {issuer}/user_management/authorize (WorkOS SDKs: WORKOS_API_HOSTNAME, "
        f"WORKOS_API_PORT, WORKOS_API_HTTPS=false, WORKOS_CLIENT_ID={client_id}) and "
        f"{issuer}/oauth2/authorize (MCP clients); dev users in {files.users_file} "
        f"(atoms dev user list); keys in {files.keys_file}",
        flush=True,
    )
