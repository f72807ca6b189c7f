"""The emulator's dev users and organizations as values, their checks, and the seeded defaults.

A fresh emulator knows the users below, in two organizations, so that `make demo` and the
tests need no setup. `atoms dev user add` adds more (see `directory`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ALL_WRITES = ("projects:write", "documents:write", "requirements:write")
MAX_PERMISSIONS = 64
_ID = re.compile(r"[A-Za-z0-9_]{1,64}")
_ROLE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PERMISSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_.*-]{0,127}")
# Deliberately simple: one @, no spaces, a dot in the domain; the emulator is no mail validator.
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_MAX_EMAIL = 254
_MAX_NAME = 100


class DevUserError(ValueError):
    """A user, organization or membership is not acceptable (the message says which field)."""


@dataclass(frozen=True, slots=True)
class Organization:
    """An organization users sign in to."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Membership:
    """A user's role and permissions in one organization (they become the token's claims)."""

    organization_id: str
    role: str = "member"
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DevUser:
    """A person who can sign in at the emulator's login page by email alone."""

    id: str
    email: str
    first_name: str
    last_name: str
    created_at: float
    memberships: tuple[Membership, ...] = ()

    def membership(self, organization_id: str) -> Membership | None:
        """Return the membership in `organization_id`, or None."""
        return next((m for m in self.memberships if m.organization_id == organization_id), None)

    def to_workos(self, *, last_sign_in_at: float | None = None) -> dict[str, Any]:
        """Return the WorkOS User object (the shape `@workos-inc/node` and `workos` deserialize)."""
        created = iso_timestamp(self.created_at)
        return {
            "object": "user",
            "id": self.id,
            "email": self.email,
            "email_verified": True,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "name": f"{self.first_name} {self.last_name}".strip(),
            "profile_picture_url": None,
            "last_sign_in_at": None if last_sign_in_at is None else iso_timestamp(last_sign_in_at),
            "locale": None,
            "external_id": None,
            "metadata": {},
            "created_at": created,
            "updated_at": created,
        }


def iso_timestamp(epoch_s: float) -> str:
    """Format epoch seconds as WorkOS does: ISO 8601 in UTC with milliseconds and `Z`."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_email(email: str) -> str:
    """Return the email lower-cased, or raise DevUserError."""
    if len(email) > _MAX_EMAIL or not _EMAIL.fullmatch(email):
        raise DevUserError(f"email {email[:80]!r} is not an email address")
    return email.lower()


def check_id(value: str, field: str) -> str:
    """Return `value` if it is an id of letters, digits and `_` (at most 64), else raise."""
    if not _ID.fullmatch(value):
        raise DevUserError(f"{field} {value[:80]!r} must be 1 to 64 letters, digits or _")
    return value


def check_membership(membership: Membership) -> Membership:
    """Return `membership` if its role and permissions are well formed, else raise DevUserError."""
    check_id(membership.organization_id, "organization id")
    if not _ROLE.fullmatch(membership.role):
        raise DevUserError(f"role {membership.role[:80]!r} must be lower-case letters, digits, _ or -")
    if len(membership.permissions) > MAX_PERMISSIONS:
        raise DevUserError(f"at most {MAX_PERMISSIONS} permissions per membership")
    for permission in membership.permissions:
        if not _PERMISSION.fullmatch(permission):
            raise DevUserError(f"permission {permission[:80]!r} is not of the form resource:action")
    return membership


def check_name(value: str, field: str) -> str:
    """Return `value` if it is a printable name of at most 100 characters, else raise."""
    if len(value) > _MAX_NAME or not value.isprintable():
        raise DevUserError(f"{field} must be printable and at most {_MAX_NAME} characters")
    return value


def seed_organizations() -> tuple[Organization, ...]:
    """The organizations of a fresh emulator."""
    return (Organization(id="org_acme", name="Acme Robotics"), Organization(id="org_globex", name="Globex"))


def seed_users(*, created_at: float) -> tuple[DevUser, ...]:
    """The users of a fresh emulator (documented in docs/local-authkit.md)."""
    return (
        DevUser(
            id="user_ada",
            email="ada@acme.test",
            first_name="Ada",
            last_name="Lovelace",
            created_at=created_at,
            memberships=(Membership("org_acme", "admin", ALL_WRITES),),
        ),
        DevUser(
            id="user_grace",
            email="grace@acme.test",
            first_name="Grace",
            last_name="Hopper",
            created_at=created_at,
            memberships=(Membership("org_acme", "member"),),
        ),
        DevUser(
            id="user_hedy",
            email="hedy@globex.test",
            first_name="Hedy",
            last_name="Lamarr",
            created_at=created_at,
            memberships=(Membership("org_globex", "admin", ALL_WRITES),),
        ),
        DevUser(
            id="user_margaret",
            email="margaret@acme.test",
            first_name="Margaret",
            last_name="Hamilton",
            created_at=created_at,
            memberships=(
                Membership("org_acme", "member", ("documents:write",)),
                Membership("org_globex", "admin", ALL_WRITES),
            ),
        ),
    )
