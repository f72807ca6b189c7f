"""The JSON bodies of the emulator's `/dev/*` endpoints, checked and turned into typed requests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from atoms_devtools.authkit_emulator.emulator_defaults import DEFAULT_GRACE_S, DEFAULT_PUBLISH_LEAD_S
from atoms_devtools.authkit_emulator.token_minting import MAX_TTL_S

_TOKEN_FIELDS = frozenset(
    {"sub", "org_id", "role", "roles", "permissions", "scopes", "ttl_s", "aud", "client_id", "sid"}
)
_ROTATION_FIELDS = frozenset({"publish_lead_s", "grace_s"})


class InvalidDevRequestError(ValueError):
    """A `/dev/*` request body is unusable; `field` names the culprit when there is one."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason if field is None else f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What `POST /dev/token` asked for; the fields mirror `mint_token`'s keywords."""

    subject: str
    org_id: str | None = None
    role: str = "member"
    roles: tuple[str, ...] | None = None
    permissions: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    ttl_s: int = 300
    audience: str | None = None
    client_id: str | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class RotationRequest:
    """What `POST /dev/rotate` asked for, in seconds."""

    publish_lead_s: float = DEFAULT_PUBLISH_LEAD_S
    grace_s: float = DEFAULT_GRACE_S


def parse_token_request(body: object) -> TokenRequest:
    """Check a decoded `POST /dev/token` body.

    Args:
        body: the decoded JSON: an object with `sub` and optionally `org_id`, `role`, `roles`,
            `permissions`, `scopes`, `ttl_s`, `aud`, `client_id`, `sid`.

    Returns:
        The typed request.

    Raises:
        InvalidDevRequestError: `sub` is missing, a field has the wrong type, `ttl_s` is not
            between 1 and 86400, or an unknown field is present (likely a typo).
    """
    fields = _object_with(body, _TOKEN_FIELDS)
    subject = _optional_str(fields, "sub")
    if not subject:
        raise InvalidDevRequestError("is required", field="sub")
    roles = fields.get("roles")
    return TokenRequest(
        subject=subject,
        org_id=_optional_str(fields, "org_id"),
        role=_optional_str(fields, "role") or "member",
        roles=None if roles is None else _str_list(fields, "roles"),
        permissions=_str_list(fields, "permissions"),
        scopes=_str_list(fields, "scopes"),
        ttl_s=_ttl(fields),
        audience=_optional_str(fields, "aud"),
        client_id=_optional_str(fields, "client_id"),
        session_id=_optional_str(fields, "sid"),
    )


def parse_rotation_request(body: object | None) -> RotationRequest:
    """Check a decoded `POST /dev/rotate` body; None (no body) means the defaults.

    Raises:
        InvalidDevRequestError: a duration is not a finite number >= 0, or a field is unknown.
    """
    if body is None:
        return RotationRequest()
    fields = _object_with(body, _ROTATION_FIELDS)
    return RotationRequest(
        publish_lead_s=_duration(fields, "publish_lead_s", DEFAULT_PUBLISH_LEAD_S),
        grace_s=_duration(fields, "grace_s", DEFAULT_GRACE_S),
    )


def _object_with(body: object, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidDevRequestError("the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidDevRequestError(
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    return body


def _optional_str(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidDevRequestError("must be a string", field=name)
    return value


def _str_list(fields: dict[str, Any], name: str) -> tuple[str, ...]:
    value = fields.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidDevRequestError("must be a list of strings", field=name)
    return tuple(value)


def _ttl(fields: dict[str, Any]) -> int:
    value = fields.get("ttl_s", 300)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidDevRequestError("must be a whole number of seconds", field="ttl_s")
    if not 0 < value <= MAX_TTL_S:
        raise InvalidDevRequestError(f"must be between 1 and {MAX_TTL_S}", field="ttl_s")
    return value


def _duration(fields: dict[str, Any], name: str, default: float) -> float:
    value = fields.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidDevRequestError("must be a number of seconds", field=name)
    if not math.isfinite(value) or value < 0:
        raise InvalidDevRequestError("must be a finite number >= 0", field=name)
    return float(value)
