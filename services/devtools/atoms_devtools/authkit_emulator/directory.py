"""DevDirectory: the emulator's users and organizations, kept in `users.json` next to the key file.

`atoms dev user add` writes the file while an emulator may be serving it; the emulator re-reads
it when it changes (see `state_file`), so a user added in one terminal can sign in at once.
Without a path the directory lives in memory (tests, embedded emulators), seeded the same way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from atoms_devtools.authkit_emulator.dev_users import (
    DevUser,
    DevUserError,
    Membership,
    Organization,
    check_email,
    check_id,
    check_membership,
    check_name,
    seed_organizations,
    seed_users,
)
from atoms_devtools.authkit_emulator.state_file import (
    FileIdentity,
    StateFileError,
    exclusive_lock,
    file_identity,
    replace_atomically,
)
from atoms_devtools.authkit_emulator.token_minting import new_ulid

logger = logging.getLogger(__name__)

MAX_USERS = 10_000
_FILE_FORMAT_VERSION = 1


class DirectoryFileError(Exception):
    """The users file cannot be read, parsed or written (the message names the file and why)."""


class DevDirectory:
    """Dev users and organizations, optionally persisted in a JSON file."""

    def __init__(self, *, path: Path | None = None, clock: Callable[[], float] = time.time) -> None:
        """Load the directory from `path`, or seed it (and create the file) when there is none.

        Args:
            path: the users file; None keeps the seeded directory in memory only.
            clock: epoch seconds, for `created_at` of new users.

        Raises:
            DirectoryFileError: the file exists but is unreadable or malformed, or cannot be written.
        """
        self._path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._identity: FileIdentity | None = None
        self._organizations = seed_organizations()
        self._users = seed_users(created_at=clock())
        if path is None:
            return
        with self._lock, self._file_lock():
            if self._stat() is None:
                self._write(self._organizations, self._users)
                logger.info("created the emulator's users file %s with the default dev users", path)
            else:
                self._load(strict=True)

    @property
    def path(self) -> Path | None:
        """The users file, or None for an in-memory directory."""
        return self._path

    def users(self) -> tuple[DevUser, ...]:
        """Every user, in the order they were added."""
        with self._lock:
            self._reload_if_changed()
            return self._users

    def organizations(self) -> tuple[Organization, ...]:
        """Every organization."""
        with self._lock:
            self._reload_if_changed()
            return self._organizations

    def user_by_email(self, email: str) -> DevUser | None:
        """Return the user with this email (case-insensitive), or None."""
        wanted = email.strip().lower()
        return next((user for user in self.users() if user.email == wanted), None)

    def user(self, user_id: str) -> DevUser | None:
        """Return the user with this id, or None."""
        return next((user for user in self.users() if user.id == user_id), None)

    def organization(self, organization_id: str) -> Organization | None:
        """Return the organization with this id, or None."""
        return next((org for org in self.organizations() if org.id == organization_id), None)

    def add_member(
        self,
        email: str,
        *,
        organization_id: str,
        role: str = "member",
        permissions: Sequence[str] = (),
        organization_name: str | None = None,
    ) -> DevUser:
        """Add a user (or a membership to an existing one) and save the file.

        The organization is created when it does not exist yet. A membership the user already
        has in that organization is replaced.

        Returns:
            The user as stored.

        Raises:
            DevUserError: a value is malformed, or the directory is full.
            DirectoryFileError: the file cannot be written.
        """
        address = check_email(email)
        membership = check_membership(Membership(organization_id, role, tuple(permissions)))
        name = check_name(organization_name or organization_id, "organization name")
        with self._lock, self._file_lock():
            self._reload_if_changed()
            organizations = self._organizations
            if all(org.id != organization_id for org in organizations):
                organizations = (*organizations, Organization(id=organization_id, name=name))
            user = self._with_membership(address, membership)
            users = tuple(user if u.id == user.id else u for u in self._users)
            if user not in users:
                users = (*users, user)
            self._write(organizations, users)
        logger.info("dev user %s is %s of %s", user.id, membership.role, organization_id)
        return user

    def _with_membership(self, email: str, membership: Membership) -> DevUser:
        existing = next((u for u in self._users if u.email == email), None)
        if existing is None:
            if len(self._users) >= MAX_USERS:
                raise DevUserError(f"the directory already holds {MAX_USERS} users")
            local = email.split("@", 1)[0]
            return DevUser(
                id=f"user_{new_ulid(self._clock())}",
                email=email,
                first_name=local[:1].upper() + local[1:],
                last_name="",
                created_at=self._clock(),
                memberships=(membership,),
            )
        others = tuple(m for m in existing.memberships if m.organization_id != membership.organization_id)
        return replace(existing, memberships=(*others, membership))

    def _stat(self) -> os.stat_result | None:
        assert self._path is not None
        try:
            return self._path.stat()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise DirectoryFileError(f"cannot read users file {self._path}: {err.strerror}") from err

    def _reload_if_changed(self) -> None:
        if self._path is None:
            return
        stat = self._stat()
        if stat is not None and file_identity(stat) != self._identity:
            self._load(strict=False)

    def _load(self, *, strict: bool) -> None:
        assert self._path is not None
        try:
            stat = self._path.stat()
            organizations, users = _parse(self._path.read_bytes(), self._path)
        except (OSError, DirectoryFileError) as err:
            problem = err if isinstance(err, DirectoryFileError) else f"cannot read {self._path}: {err}"
            if strict:
                raise DirectoryFileError(str(problem)) from err
            logger.warning("keeping the previous dev users: %s", problem)
            return
        self._organizations, self._users, self._identity = organizations, users, file_identity(stat)

    def _write(self, organizations: tuple[Organization, ...], users: tuple[DevUser, ...]) -> None:
        if self._path is None:
            self._organizations, self._users = organizations, users
            return
        document = {
            "version": _FILE_FORMAT_VERSION,
            "organizations": [{"id": org.id, "name": org.name} for org in organizations],
            "users": [_user_record(user) for user in users],
        }
        try:
            replace_atomically(self._path, json.dumps(document, indent=2).encode("utf-8"))
            stat = self._path.stat()
        except OSError as err:
            raise DirectoryFileError(f"cannot write users file {self._path}: {err}") from err
        self._organizations, self._users, self._identity = organizations, users, file_identity(stat)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self._path is None:
            yield
            return
        try:
            with exclusive_lock(self._path):
                yield
        except StateFileError as err:
            raise DirectoryFileError(str(err)) from err


def _user_record(user: DevUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "created_at": user.created_at,
        "memberships": [
            {"organization_id": m.organization_id, "role": m.role, "permissions": list(m.permissions)}
            for m in user.memberships
        ],
    }


def _parse(data: bytes, path: Path) -> tuple[tuple[Organization, ...], tuple[DevUser, ...]]:
    try:
        document = json.loads(data)
        if not isinstance(document, dict) or document.get("version") != _FILE_FORMAT_VERSION:
            raise DevUserError(f"not a version {_FILE_FORMAT_VERSION} users file")
        organizations = tuple(_organization_from(record) for record in document["organizations"])
        users = tuple(_user_from(record) for record in document["users"][:MAX_USERS])
    except (ValueError, KeyError, TypeError, RecursionError) as err:
        raise DirectoryFileError(f"users file {path} is malformed: {err}") from err
    return organizations, users


def _organization_from(record: dict[str, Any]) -> Organization:
    return Organization(
        id=check_id(str(record["id"]), "organization id"), name=check_name(str(record["name"]), "name")
    )


def _user_from(record: dict[str, Any]) -> DevUser:
    memberships = tuple(
        check_membership(
            Membership(str(m["organization_id"]), str(m["role"]), tuple(str(p) for p in m["permissions"]))
        )
        for m in record["memberships"]
    )
    return DevUser(
        id=check_id(str(record["id"]), "user id"),
        email=check_email(str(record["email"])),
        first_name=check_name(str(record["first_name"]), "first_name"),
        last_name=check_name(str(record["last_name"]), "last_name"),
        created_at=float(record["created_at"]),
        memberships=memberships,
    )
