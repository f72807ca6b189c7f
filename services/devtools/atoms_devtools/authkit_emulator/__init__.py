"""A local AuthKit (WorkOS): discovery, JWKS, key rotation, and sign-in the way AuthKit does it.

Development and tests only: `atoms dev authkit` serves it (a hosted login page for dev users,
the WorkOS User Management endpoints the SDKs call, an OAuth 2.1 authorization server for MCP
clients), `atoms dev token` mints tokens from its key file, `atoms dev user` manages its users,
and `running_emulator()` runs it inside a test's event loop.

The names below load their module on first use (PEP 562): importing one module of the
package (its command line, say) does not load them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atoms_grpc.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from atoms_devtools.authkit_emulator.app import build_emulator_app, discovery_document
    from atoms_devtools.authkit_emulator.client_registry import (
        ClientRegistry,
        OAuthClient,
        application_client,
    )
    from atoms_devtools.authkit_emulator.dev_requests import (
        InvalidDevRequestError,
        RotationRequest,
        TokenRequest,
        parse_rotation_request,
        parse_token_request,
    )
    from atoms_devtools.authkit_emulator.dev_users import DevUser, DevUserError, Membership, Organization
    from atoms_devtools.authkit_emulator.directory import DevDirectory, DirectoryFileError
    from atoms_devtools.authkit_emulator.emulator_defaults import (
        DEFAULT_ACCESS_TOKEN_TTL_S,
        DEFAULT_API_KEY,
        DEFAULT_CLIENT_ID,
        DEFAULT_GRACE_S,
        DEFAULT_JWKS_MAX_AGE_S,
        DEFAULT_PUBLISH_LEAD_S,
        DEFAULT_REDIRECT_URIS,
        emulator_base_url,
    )
    from atoms_devtools.authkit_emulator.emulator_files import (
        EmulatorFiles,
        EmulatorFilesNotFoundError,
        find_repository_root,
        resolve_emulator_files,
    )
    from atoms_devtools.authkit_emulator.key_store import (
        DEFAULT_KEYS_FILE,
        EmulatorKeyStore,
        KeyFileError,
        NoSigningKeyError,
        Rotation,
    )
    from atoms_devtools.authkit_emulator.oauth_errors import OAuthError
    from atoms_devtools.authkit_emulator.server import (
        SignInOptions,
        bind_listener,
        run_emulator,
        running_emulator,
    )
    from atoms_devtools.authkit_emulator.sign_in import CODE_TTL_S
    from atoms_devtools.authkit_emulator.signing_key import KeyRecordError, SigningKey, generate_signing_key
    from atoms_devtools.authkit_emulator.token_minting import MAX_TTL_S, mint_token, new_ulid

# Each public name and the module that defines it.
_MODULE_OF = {
    "CODE_TTL_S": "atoms_devtools.authkit_emulator.sign_in",
    "DEFAULT_ACCESS_TOKEN_TTL_S": "atoms_devtools.authkit_emulator.emulator_defaults",
    "DEFAULT_API_KEY": "atoms_devtools.authkit_emulator.emulator_defaults",
    "DEFAULT_CLIENT_ID": "atoms_devtools.authkit_emulator.emulator_defaults",
    "DEFAULT_GRACE_S": "atoms_devtools.authkit_emulator.emulator_defaults",
    "DEFAULT_JWKS_MAX_AGE_S": "atoms_devtools.authkit_emulator.emulator_defaults",
    "DEFAULT_KEYS_FILE": "atoms_devtools.authkit_emulator.key_store",
    "DEFAULT_PUBLISH_LEAD_S": "atoms_devtools.authkit_emulator.emulator_defaults",
    "DEFAULT_REDIRECT_URIS": "atoms_devtools.authkit_emulator.emulator_defaults",
    "MAX_TTL_S": "atoms_devtools.authkit_emulator.token_minting",
    "ClientRegistry": "atoms_devtools.authkit_emulator.client_registry",
    "DevDirectory": "atoms_devtools.authkit_emulator.directory",
    "DevUser": "atoms_devtools.authkit_emulator.dev_users",
    "DevUserError": "atoms_devtools.authkit_emulator.dev_users",
    "DirectoryFileError": "atoms_devtools.authkit_emulator.directory",
    "EmulatorFiles": "atoms_devtools.authkit_emulator.emulator_files",
    "EmulatorFilesNotFoundError": "atoms_devtools.authkit_emulator.emulator_files",
    "EmulatorKeyStore": "atoms_devtools.authkit_emulator.key_store",
    "InvalidDevRequestError": "atoms_devtools.authkit_emulator.dev_requests",
    "KeyFileError": "atoms_devtools.authkit_emulator.key_store",
    "KeyRecordError": "atoms_devtools.authkit_emulator.signing_key",
    "Membership": "atoms_devtools.authkit_emulator.dev_users",
    "NoSigningKeyError": "atoms_devtools.authkit_emulator.key_store",
    "OAuthClient": "atoms_devtools.authkit_emulator.client_registry",
    "OAuthError": "atoms_devtools.authkit_emulator.oauth_errors",
    "Organization": "atoms_devtools.authkit_emulator.dev_users",
    "Rotation": "atoms_devtools.authkit_emulator.key_store",
    "RotationRequest": "atoms_devtools.authkit_emulator.dev_requests",
    "SignInOptions": "atoms_devtools.authkit_emulator.server",
    "SigningKey": "atoms_devtools.authkit_emulator.signing_key",
    "TokenRequest": "atoms_devtools.authkit_emulator.dev_requests",
    "application_client": "atoms_devtools.authkit_emulator.client_registry",
    "bind_listener": "atoms_devtools.authkit_emulator.server",
    "build_emulator_app": "atoms_devtools.authkit_emulator.app",
    "discovery_document": "atoms_devtools.authkit_emulator.app",
    "emulator_base_url": "atoms_devtools.authkit_emulator.emulator_defaults",
    "find_repository_root": "atoms_devtools.authkit_emulator.emulator_files",
    "generate_signing_key": "atoms_devtools.authkit_emulator.signing_key",
    "mint_token": "atoms_devtools.authkit_emulator.token_minting",
    "new_ulid": "atoms_devtools.authkit_emulator.token_minting",
    "parse_rotation_request": "atoms_devtools.authkit_emulator.dev_requests",
    "parse_token_request": "atoms_devtools.authkit_emulator.dev_requests",
    "resolve_emulator_files": "atoms_devtools.authkit_emulator.emulator_files",
    "run_emulator": "atoms_devtools.authkit_emulator.server",
    "running_emulator": "atoms_devtools.authkit_emulator.server",
}

__all__ = [
    "CODE_TTL_S",
    "DEFAULT_ACCESS_TOKEN_TTL_S",
    "DEFAULT_API_KEY",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_GRACE_S",
    "DEFAULT_JWKS_MAX_AGE_S",
    "DEFAULT_KEYS_FILE",
    "DEFAULT_PUBLISH_LEAD_S",
    "DEFAULT_REDIRECT_URIS",
    "MAX_TTL_S",
    "ClientRegistry",
    "DevDirectory",
    "DevUser",
    "DevUserError",
    "DirectoryFileError",
    "EmulatorFiles",
    "EmulatorFilesNotFoundError",
    "EmulatorKeyStore",
    "InvalidDevRequestError",
    "KeyFileError",
    "KeyRecordError",
    "Membership",
    "NoSigningKeyError",
    "OAuthClient",
    "OAuthError",
    "Organization",
    "Rotation",
    "RotationRequest",
    "SignInOptions",
    "SigningKey",
    "TokenRequest",
    "application_client",
    "bind_listener",
    "build_emulator_app",
    "discovery_document",
    "emulator_base_url",
    "find_repository_root",
    "generate_signing_key",
    "mint_token",
    "new_ulid",
    "parse_rotation_request",
    "parse_token_request",
    "resolve_emulator_files",
    "run_emulator",
    "running_emulator",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULE_OF)
