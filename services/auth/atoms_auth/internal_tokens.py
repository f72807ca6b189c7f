"""InternalTokenRegistry: the static tokens of named internal services, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from atoms_auth.settings import INTERNAL_ISSUER, InternalTokenSpec
from atoms_auth.token_cache import AcceptedToken
from atoms_grpc.principal import Principal, PrincipalKind


@dataclass(frozen=True, slots=True)
class RegisteredToken:
    """One configured internal token: its digest, its principal, and that principal's compact answer."""

    digest: bytes
    principal: Principal
    accepted: AcceptedToken


class InternalTokenRegistry:
    """Matches a presented token against every configured internal token.

    Tokens are held only as SHA-256 digests. Every lookup compares the presented token's
    digest with all of them through `hmac.compare_digest`, without stopping at a match, so the
    time taken says nothing about which token (or which prefix) was close. Several tokens
    may be valid at once, which is how a token is rotated with overlap.
    """

    def __init__(self, specs: Iterable[InternalTokenSpec]) -> None:
        self._tokens = tuple(_register(spec) for spec in specs)

    def __len__(self) -> int:
        return len(self._tokens)

    def match(self, token: str) -> Principal | None:
        """Return the principal of the internal token equal to `token`, or None."""
        registered = self.match_digest(token_digest(token))
        return registered.principal if registered is not None else None

    def match_digest(self, presented: bytes) -> RegisteredToken | None:
        """Return the internal token whose SHA-256 digest is `presented`, or None.

        The validator computes the digest once and uses it here and as its cache key.
        """
        found: RegisteredToken | None = None
        for registered in self._tokens:
            if hmac.compare_digest(presented, registered.digest):
                found = registered
        return found


def token_digest(token: str) -> bytes:
    """The SHA-256 digest of a token (what the registry compares, and the verified-token cache's key)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _register(spec: InternalTokenSpec) -> RegisteredToken:
    principal = Principal(
        kind=PrincipalKind.INTERNAL,
        subject=f"service:{spec.name}",
        issuer=INTERNAL_ISSUER,
        scopes=spec.scopes,
        service_name=spec.name,
    )
    return RegisteredToken(
        digest=token_digest(spec.token.get_secret_value()),
        principal=principal,
        accepted=AcceptedToken.of(principal, first_party=True, valid_until=float("inf")),
    )
