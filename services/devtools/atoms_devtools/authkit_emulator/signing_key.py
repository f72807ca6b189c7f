"""SigningKey: one RS256 key of the emulator, its schedule, and its on-disk record.

A key is published in the JWKS from the moment it exists until `retire_at`, and signs from
`active_from` on. Publishing before signing is what lets a verifier with a JWKS cache (and a
cooldown on refetching for unknown `kid`s) accept the first token signed by a new key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

RSA_KEY_BITS = 2048
SIGNING_ALGORITHM = "RS256"


class KeyRecordError(ValueError):
    """A stored key record is not usable (the message names the field, never the key material)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An RSA key pair with the times it is published, signs and is retired (epoch seconds)."""

    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False, compare=False)
    created_at: float
    active_from: float
    retire_at: float | None = None

    def is_published(self, now: float) -> bool:
        """Return whether the key belongs in the JWKS at `now` (it is not yet retired)."""
        return self.retire_at is None or now < self.retire_at

    def is_active(self, now: float) -> bool:
        """Return whether the key may sign at `now`."""
        return self.active_from <= now and self.is_published(now)

    def public_jwk(self) -> dict[str, str]:
        """Return the public half as a JWK with `kid`, `use` and `alg`; never any private member."""
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {
            "kty": jwk["kty"],
            "kid": self.kid,
            "use": "sig",
            "alg": SIGNING_ALGORITHM,
            "n": jwk["n"],
            "e": jwk["e"],
        }

    def retired_by(self, retire_at: float) -> SigningKey:
        """Return a copy that leaves the JWKS at `retire_at`, or earlier if already scheduled."""
        if self.retire_at is not None and self.retire_at <= retire_at:
            return self
        return SigningKey(
            kid=self.kid,
            private_key=self.private_key,
            created_at=self.created_at,
            active_from=self.active_from,
            retire_at=retire_at,
        )

    def to_record(self) -> dict[str, Any]:
        """Return the JSON-ready record stored in the key file (it includes the private PEM)."""
        pem = self.private_key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
        return {
            "kid": self.kid,
            "private_key_pem": pem.decode("ascii"),
            "created_at": self.created_at,
            "active_from": self.active_from,
            "retire_at": self.retire_at,
        }

    @classmethod
    def from_record(cls, record: object) -> SigningKey:
        """Build a key from a record written by `to_record`.

        Args:
            record: one decoded JSON entry of the key file.

        Returns:
            The key.

        Raises:
            KeyRecordError: a field is missing or has the wrong type, or the PEM is not an RSA key.
        """
        if not isinstance(record, dict):
            raise KeyRecordError("a key record must be a JSON object")
        retire_at = record.get("retire_at")
        return cls(
            kid=_require_str(record, "kid"),
            private_key=_load_private_key(_require_str(record, "private_key_pem")),
            created_at=_require_number(record, "created_at"),
            active_from=_require_number(record, "active_from"),
            retire_at=None if retire_at is None else _require_number(record, "retire_at"),
        )


def generate_signing_key(*, now: float, active_from: float) -> SigningKey:
    """Create a fresh RSA-2048 key with a random `kid` (`key_` and 16 hex digits).

    Args:
        now: creation time, epoch seconds.
        active_from: when the key starts signing, epoch seconds.

    Returns:
        The new key, not yet scheduled for retirement.
    """
    return SigningKey(
        kid=f"key_{secrets.token_hex(8)}",
        private_key=rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS),
        created_at=now,
        active_from=active_from,
    )


def _require_str(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value:
        raise KeyRecordError(f"key record field {name!r} must be a non-empty string")
    return value


def _require_number(record: dict[str, Any], name: str) -> float:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KeyRecordError(f"key record field {name!r} must be a number of epoch seconds")
    return float(value)


def _load_private_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as err:
        # The parser's message is generic; it never echoes the PEM, which is secret.
        raise KeyRecordError("key record field 'private_key_pem' is not a readable PEM key") from err
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyRecordError("key record field 'private_key_pem' is not an RSA key")
    return key
