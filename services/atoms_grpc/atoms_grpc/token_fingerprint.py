"""The only form in which a token may appear in logs: a short hash fingerprint."""

from __future__ import annotations

import hashlib

BEARER_SCHEME = "bearer"


def fingerprint_token(token: str) -> str:
    """Return the first 12 hex digits of the token's SHA-256: enough to correlate, useless to replay."""
    return fingerprint_digest(hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest())


def fingerprint_digest(digest: bytes) -> str:
    """The fingerprint of a token whose SHA-256 `digest` is already at hand (no second hash)."""
    return digest[:6].hex()


def strip_bearer(value: str) -> str:
    """Return the token from a bare token or an `authorization` value (`Bearer <token>`).

    The scheme is matched case-insensitively, as RFC 9110 requires; surrounding white space
    is removed.
    """
    stripped = value.strip()
    scheme, _, rest = stripped.partition(" ")
    if scheme.lower() == BEARER_SCHEME:
        return rest.strip()
    return stripped
