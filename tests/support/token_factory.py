"""Signing keys and JWTs for tests, minted per session; every token is remembered for the log check."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUED_TOKENS: set[str] = set()
"""Every token a test minted or configured: none may ever appear in a log line."""


@dataclass(frozen=True)
class KeyPair:
    """A private key, its kid, and its public JWK."""

    kid: str
    private_key: Any
    algorithm: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public JWK as an issuer publishes it."""
        public = self.private_key.public_key()
        if self.algorithm.startswith("ES"):
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    @property
    def public_pem(self) -> bytes:
        """The public key in PEM form (what an HS256 confusion attack signs with)."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def new_rsa_key(kid: str | None = None) -> KeyPair:
    """A fresh RSA-2048 key for RS256."""
    return KeyPair(
        kid=kid or f"kid_{uuid.uuid4().hex[:12]}",
        private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
    )


def new_ec_key(kid: str | None = None) -> KeyPair:
    """A fresh P-256 key for ES256."""
    return KeyPair(
        kid=kid or f"kid_{uuid.uuid4().hex[:12]}",
        private_key=ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
    )


def remember(token: str) -> str:
    """Record a token for the log hygiene check and return it."""
    ISSUED_TOKENS.add(token)
    return token


def mint(
    key: KeyPair,
    *,
    issuer: str,
    subject: str = "user_01TEST",
    ttl_s: float = 300,
    header_overrides: dict[str, Any] | None = None,
    omit: tuple[str, ...] = (),
    algorithm: str | None = None,
    signing_key: Any = None,
    **claims: Any,
) -> str:
    """Mint an AuthKit-shaped JWT; keyword claims are added or override the defaults."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "sid": "session_01TEST",
        "org_id": "org_01TEST",
        "role": "member",
        "roles": ["member"],
        "permissions": ["projects:read"],
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + ttl_s,
        **claims,
    }
    for name in omit:
        payload.pop(name, None)
    headers = {"kid": key.kid, **(header_overrides or {})}
    if headers.get("kid") is None:
        headers.pop("kid")
    token = jwt.encode(
        payload,
        signing_key if signing_key is not None else key.private_key,
        algorithm=algorithm or key.algorithm,
        headers=headers,
    )
    return remember(token)
