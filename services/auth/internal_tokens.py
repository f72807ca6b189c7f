"""InternalTokenRegistry: the static tokens of named internal services, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from services.atoms_grpc.principal import Principal, PrincipalKind
from services.auth.settings import INTERNAL_ISSUER, InternalTokenSpec


@dataclass(frozen=True, slots=True)
class _RegisteredToken:
    digest: bytes
    principal: Principal


class InternalTokenRegistry:
    """Matches a presented token against every configured internal token.

    Tokens are held only as SHA-256 digests. Every lookup compares the presented token's
    digest with all of them through `hmac.compare_digest`, without stopping at a match, so the
    time taken says nothing about which token (or which prefix) was close. Several tokens
    may be valid at once, which is how a token is rotated with overlap.
    """

    def __init__(self, specs: Iterable[InternalTokenSpec]) -> None:
        self._tokens = tuple(
            _RegisteredToken(digest=_digest(spec.token.get_secret_value()), principal=_principal_for(spec))
            for spec in specs
        )

    def __len__(self) -> int:
        return len(self._tokens)

    def match(self, token: str) -> Principal | None:
        """Return the principal of the internal token equal to `token`, or None."""
        presented = _digest(token)
        found: Principal | None = None
        for registered in self._tokens:
            if hmac.compare_digest(presented, registered.digest):
                found = registered.principal
        return found


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _principal_for(spec: InternalTokenSpec) -> Principal:
    return Principal(
        kind=PrincipalKind.INTERNAL,
        subject=f"service:{spec.name}",
        issuer=INTERNAL_ISSUER,
        scopes=spec.scopes,
        service_name=spec.name,
    )
