"""The principal a validated token speaks for, and its protobuf conversion."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from atoms.auth.v1 import auth_pb2


class PrincipalKind(enum.Enum):
    """Who a token was issued to."""

    INTERNAL = auth_pb2.PRINCIPAL_KIND_INTERNAL
    USER = auth_pb2.PRINCIPAL_KIND_USER


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller whose token the auth service accepted.

    Empty strings and tuples mean the token did not carry that claim. `expires_at` is
    None for internal tokens, which do not expire.
    """

    kind: PrincipalKind
    subject: str
    issuer: str
    org_id: str = ""
    session_id: str = ""
    role: str = ""
    roles: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    entitlements: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    client_id: str = ""
    audiences: tuple[str, ...] = ()
    token_id: str = ""
    actor: str = ""
    expires_at: datetime | None = None
    service_name: str = ""

    @property
    def is_internal(self) -> bool:
        """True for a named internal service, False for a user."""
        return self.kind is PrincipalKind.INTERNAL

    def missing_scopes(self, required: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """Return the required scopes this principal does not hold, in the order given."""
        held = set(self.scopes)
        return tuple(scope for scope in required if scope not in held)

    def to_proto(self) -> auth_pb2.Principal:
        """Convert to the wire message."""
        message = auth_pb2.Principal(
            kind=self.kind.value,
            subject=self.subject,
            issuer=self.issuer,
            org_id=self.org_id,
            session_id=self.session_id,
            role=self.role,
            roles=self.roles,
            permissions=self.permissions,
            entitlements=self.entitlements,
            scopes=self.scopes,
            client_id=self.client_id,
            audiences=self.audiences,
            token_id=self.token_id,
            actor=self.actor,
            service_name=self.service_name,
        )
        if self.expires_at is not None:
            message.expires_at.FromDatetime(self.expires_at)
        return message

    @classmethod
    def from_proto(cls, message: auth_pb2.Principal) -> Principal:
        """Build from the wire message.

        Raises:
            ValueError: the message's kind is unspecified or unknown.
        """
        try:
            kind = PrincipalKind(message.kind)
        except ValueError as err:
            raise ValueError(f"principal kind {message.kind} is not a known kind") from err
        expires_at = message.expires_at.ToDatetime(tzinfo=UTC) if message.HasField("expires_at") else None
        return cls(
            kind=kind,
            subject=message.subject,
            issuer=message.issuer,
            org_id=message.org_id,
            session_id=message.session_id,
            role=message.role,
            roles=tuple(message.roles),
            permissions=tuple(message.permissions),
            entitlements=tuple(message.entitlements),
            scopes=tuple(message.scopes),
            client_id=message.client_id,
            audiences=tuple(message.audiences),
            token_id=message.token_id,
            actor=message.actor,
            expires_at=expires_at,
            service_name=message.service_name,
        )
