"""Claims to Principal: every claim the auth service reads, checked for type and range.

A signature proves who issued a token, not that its claims are sane: the checks here run on
claims from a trusted key as on any others, and each refusal is an InvalidClaimError that
names the claim. They bound what would otherwise fail deep inside a library:

- `exp`, `nbf` and `iat` are NumericDates (RFC 7519 section 2): numbers (not strings, not
  booleans), finite, and within year 9999, the end of both `datetime` and protobuf's
  Timestamp;
- `sub` is a non-empty string: a principal with no subject is no one;
- text claims are strings of Unicode scalar values without control characters: a lone
  surrogate (`"\\ud800"` in JSON) cannot be encoded to the wire, and a control character
  cannot travel in the identity headers Envoy sets from these values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from atoms_auth.errors import InvalidClaimError
from atoms_grpc.principal import Principal, PrincipalKind

MAX_NUMERIC_DATE = 253_402_300_799
"""9999-12-31T23:59:59Z in seconds since the epoch: the largest time claim accepted."""

TIME_CLAIMS = ("exp", "nbf", "iat")

# C0 controls, DEL, and surrogates: json pairs valid surrogates into one code point, so any
# surrogate left in a decoded string is a lone one.
_UNSAFE_TEXT = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def check_time_claims(claims: Mapping[str, Any]) -> None:
    """Refuse a time claim that is present but not a NumericDate within range.

    Raises:
        InvalidClaimError: names the claim.
    """
    for name in TIME_CLAIMS:
        if name in claims:
            numeric_date(claims, name)


def numeric_date(claims: Mapping[str, Any], name: str) -> float:
    """Return the time claim `name` in seconds since the epoch.

    Raises:
        InvalidClaimError: the claim is not a finite number within year 9999.
    """
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidClaimError(name, "must be a number of seconds since the epoch")
    if not -MAX_NUMERIC_DATE <= value <= MAX_NUMERIC_DATE:  # NaN fails every comparison
        raise InvalidClaimError(name, "is out of range (a time must be finite and before year 10000)")
    return float(value)


def principal_from(claims: Mapping[str, Any]) -> Principal:
    """Build the user principal of verified claims.

    Raises:
        InvalidClaimError: a claim has the wrong type, is out of range, or `sub` is empty.
    """
    subject = _text(claims, "sub")
    if not subject:
        raise InvalidClaimError("sub", "must be a non-empty string")
    return Principal(
        kind=PrincipalKind.USER,
        subject=subject,
        issuer=_text(claims, "iss"),
        org_id=_text(claims, "org_id"),
        session_id=_text(claims, "sid"),
        role=_text(claims, "role"),
        roles=_text_list(claims, "roles"),
        permissions=_text_list(claims, "permissions"),
        entitlements=_text_list(claims, "entitlements"),
        scopes=_scopes(claims),
        client_id=_text(claims, "client_id") or _text(claims, "azp"),
        audiences=_text_list(claims, "aud"),
        token_id=_text(claims, "jti"),
        actor=_actor(claims),
        expires_at=datetime.fromtimestamp(numeric_date(claims, "exp"), UTC),
    )


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidClaimError(name, "must be a string")
    return _checked_text(name, value)


def _text_list(claims: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = claims.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        return (_checked_text(name, value),)
    if not isinstance(value, list):
        raise InvalidClaimError(name, "must be a string or a list of strings")
    for item in value:
        if not isinstance(item, str):
            raise InvalidClaimError(name, "must be a string or a list of strings")
        _checked_text(name, item)
    return tuple(value)


def _scopes(claims: Mapping[str, Any]) -> tuple[str, ...]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return tuple(_checked_text("scope", scope).split())
    if scope is not None:
        raise InvalidClaimError("scope", "must be a space-separated string")
    scp = claims.get("scp")
    if isinstance(scp, str):
        return tuple(_checked_text("scp", scp).split())
    return _text_list(claims, "scp")


def _actor(claims: Mapping[str, Any]) -> str:
    act = claims.get("act")
    if act is None:
        return ""
    if not isinstance(act, dict) or not isinstance(act.get("sub", ""), str):
        raise InvalidClaimError("act", 'must be an object with a string "sub"')
    return _checked_text("act", act.get("sub", ""))


def _checked_text(name: str, value: str) -> str:
    # isprintable() is the fast answer for almost every claim; the pattern decides the rest
    # (a non-breaking space or a format character is not printable, yet harmless).
    if not value.isprintable() and _UNSAFE_TEXT.search(value) is not None:
        raise InvalidClaimError(name, "holds a control character or a lone surrogate")
    return value
