"""A local stand-in for AuthKit (WorkOS): discovery, JWKS, AuthKit-shaped tokens, key rotation.

Development and tests only: `atoms dev authkit` serves it, `atoms dev token` mints tokens from
its key file, and `running_emulator()` runs it inside a test's event loop.
"""

from services.authkit_emulator.app import DEFAULT_JWKS_MAX_AGE_S, build_emulator_app, discovery_document
from services.authkit_emulator.dev_requests import (
    InvalidDevRequestError,
    RotationRequest,
    TokenRequest,
    parse_rotation_request,
    parse_token_request,
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
from services.authkit_emulator.server import bind_listener, emulator_base_url, run_emulator, running_emulator
from services.authkit_emulator.signing_key import KeyRecordError, SigningKey, generate_signing_key
from services.authkit_emulator.token_minting import MAX_TTL_S, mint_token, new_ulid

__all__ = [
    "DEFAULT_GRACE_S",
    "DEFAULT_JWKS_MAX_AGE_S",
    "DEFAULT_KEYS_FILE",
    "DEFAULT_PUBLISH_LEAD_S",
    "MAX_TTL_S",
    "EmulatorKeyStore",
    "InvalidDevRequestError",
    "KeyFileError",
    "KeyRecordError",
    "NoSigningKeyError",
    "Rotation",
    "RotationRequest",
    "SigningKey",
    "TokenRequest",
    "bind_listener",
    "build_emulator_app",
    "discovery_document",
    "emulator_base_url",
    "generate_signing_key",
    "mint_token",
    "new_ulid",
    "parse_rotation_request",
    "parse_token_request",
    "run_emulator",
    "running_emulator",
]
