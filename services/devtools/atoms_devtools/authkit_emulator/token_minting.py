"""mint_token: AuthKit-shaped RS256 access tokens signed with the emulator's current key.

The claim set follows AuthKit access tokens: `iss`, `sub`, `sid`, `org_id`, `role`, `roles`,
`permissions`, `jti`, `iat`, `exp`, plus `scope`, `aud` and `client_id` when asked for.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jwt

from atoms_devtools.authkit_emulator.signing_key import SIGNING_ALGORITHM

if TYPE_CHECKING:
    from atoms_devtools.authkit_emulator.key_store import EmulatorKeyStore

MAX_TTL_S = 86_400
_CROCKFORD_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def mint_token(
    store: EmulatorKeyStore,
    *,
    issuer: str,
    subject: str,
    org_id: str | None = None,
    role: str = "member",
    roles: Sequence[str] | None = None,
    permissions: Sequence[str] = (),
    scopes: Sequence[str] = (),
    ttl_s: int = 300,
    audience: str | None = None,
    client_id: str | None = None,
    session_id: str | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> str:
    """Sign an access token the way AuthKit would, with the store's current signing key.

    Args:
        store: where the signing key comes from.
        issuer: the `iss` claim: the emulator's base URL, without a trailing slash.
        subject: the `sub` claim, a user id such as `user_01...`.
        org_id: the `org_id` claim; omitted when None.
        role: the `role` claim.
        roles: the `roles` claim; `[role]` when None.
        permissions: the `permissions` claim (always present, possibly empty).
        scopes: joined with spaces into a `scope` claim; omitted when empty.
        ttl_s: lifetime in seconds, `exp - iat`; 1 to 86400.
        audience: the `aud` claim; omitted when None.
        client_id: the `client_id` claim; omitted when None.
        session_id: the `sid` claim; a random `session_...` id when None.
        extra_claims: applied last, so they may replace any claim above; tests use this to
            craft tokens a verifier must refuse (wrong `iss`, missing `exp`, ...).
        now: the `iat` time in epoch seconds (default: the store's clock).

    Returns:
        The compact JWS, with header `alg` RS256, `typ` JWT and the signing key's `kid`.

    Raises:
        ValueError: `subject` is empty or `ttl_s` is out of range.
        NoSigningKeyError: the store has no key that may sign at `now`.
    """
    if not subject:
        raise ValueError("subject must not be empty")
    if isinstance(ttl_s, bool) or not 0 < ttl_s <= MAX_TTL_S:
        raise ValueError(f"ttl_s must be between 1 and {MAX_TTL_S} seconds, got {ttl_s!r}")
    issued_at = store.now() if now is None else now
    key = store.signing_key(issued_at)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "sid": session_id or f"session_{new_ulid(issued_at)}",
        "role": role,
        "roles": list(roles) if roles is not None else [role],
        "permissions": list(permissions),
        "jti": new_ulid(issued_at),
        "iat": int(issued_at),
        "exp": int(issued_at) + ttl_s,
    }
    claims |= _optional_claims(org_id=org_id, scopes=scopes, audience=audience, client_id=client_id)
    claims |= dict(extra_claims or {})
    return jwt.encode(
        claims, key.private_key, algorithm=SIGNING_ALGORITHM, headers={"kid": key.kid, "typ": "JWT"}
    )


def new_ulid(now: float) -> str:
    """Return a ULID: 48 bits of milliseconds and 80 random bits, in 26 Crockford base-32 digits.

    AuthKit ids (`session_01H...`) are ULIDs, so emulated ids sort and look the same.
    """
    value = (int(now * 1000) & (2**48 - 1)) << 80 | secrets.randbits(80)
    return "".join(_CROCKFORD_BASE32[(value >> shift) & 31] for shift in range(125, -1, -5))


def _optional_claims(
    *, org_id: str | None, scopes: Sequence[str], audience: str | None, client_id: str | None
) -> dict[str, Any]:
    optional: dict[str, Any] = {}
    if org_id is not None:
        optional["org_id"] = org_id
    if scopes:
        optional["scope"] = " ".join(scopes)
    if audience is not None:
        optional["aud"] = audience
    if client_id is not None:
        optional["client_id"] = client_id
    return optional
