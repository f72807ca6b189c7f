"""The only form in which a token may appear in logs: a short hash fingerprint."""

from __future__ import annotations

import hashlib

BEARER_SCHEME = "bearer"


def fingerprint_token(token: str) -> str:
    """Return the first 12 hex digits of the token's SHA-256: enough to correlate, useless to replay."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:12]


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
