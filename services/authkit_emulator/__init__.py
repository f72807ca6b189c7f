"""A local AuthKit (WorkOS): discovery, JWKS, key rotation, and sign-in the way AuthKit does it.

Development and tests only: `atoms dev authkit` serves it (a hosted login page for dev users,
the WorkOS User Management endpoints the SDKs call, an OAuth 2.1 authorization server for MCP
clients), `atoms dev token` mints tokens from its key file, `atoms dev user` manages its users,
and `running_emulator()` runs it inside a test's event loop.
"""

from services.authkit_emulator.app import DEFAULT_JWKS_MAX_AGE_S, build_emulator_app, discovery_document
from services.authkit_emulator.client_registry import (
    DEFAULT_API_KEY,
    DEFAULT_CLIENT_ID,
    DEFAULT_REDIRECT_URIS,
    ClientRegistry,
    OAuthClient,
    application_client,
)
from services.authkit_emulator.dev_requests import (
    InvalidDevRequestError,
    RotationRequest,
    TokenRequest,
    parse_rotation_request,
    parse_token_request,
)
from services.authkit_emulator.dev_users import DevUser, DevUserError, Membership, Organization
from services.authkit_emulator.directory import DevDirectory, DirectoryFileError
from services.authkit_emulator.emulator_files import (
    EmulatorFiles,
    EmulatorFilesNotFoundError,
    find_repository_root,
    resolve_emulator_files,
)
from services.authkit_emulator.key_store import (
    DEFAULT_GRACE_S,
    DEFAULT_KEYS_FILE,
    DEFAULT_PUBLISH_LEAD_S,
    EmulatorKeyStore,
    KeyFileError,
    NoSigningKeyError,
    Rotation,
)
from services.authkit_emulator.oauth_errors import OAuthError
from services.authkit_emulator.server import (
    SignInOptions,
    bind_listener,
    emulator_base_url,
    run_emulator,
    running_emulator,
)
from services.authkit_emulator.sign_in import CODE_TTL_S, DEFAULT_ACCESS_TOKEN_TTL_S
from services.authkit_emulator.signing_key import KeyRecordError, SigningKey, generate_signing_key
from services.authkit_emulator.token_minting import MAX_TTL_S, mint_token, new_ulid

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
