"""The Atoms domain: organizations own projects, projects hold documents, documents hold requirements.

Values here are what the store returns and the tools answer with. The `clean_*` functions are
the one place input bounds live; they raise `InvalidInputError` naming the argument.
Organizations themselves are not stored: an organization is the `org_id` of a caller's token
(AuthKit owns organizations), and every row carries it.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from atoms_mcp.errors import InvalidInputError

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000
MAX_REQUIREMENT_TEXT_CHARS = 20_000
MAX_QUERY_CHARS = 200
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_OFFSET = 100_000
MAX_ORG_ID_CHARS = 64
MAX_ACTOR_CHARS = 255
_ID_BYTES = 16  # 128 random bits: ids cannot be enumerated or guessed
_ORG_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_E = TypeVar("_E", bound=enum.StrEnum)


class IdKind(enum.StrEnum):
    """The prefix of each kind of id."""

    PROJECT = "prj"
    DOCUMENT = "doc"
    REQUIREMENT = "req"


class RequirementStatus(enum.StrEnum):
    """Where a requirement is in its life."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    IMPLEMENTED = "implemented"
    VERIFIED = "verified"
    REJECTED = "rejected"


class RequirementPriority(enum.StrEnum):
    """How much a requirement matters."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Project:
    """A project of one organization."""

    id: str
    name: str
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Document:
    """A document of one project."""

    id: str
    project_id: str
    title: str
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Requirement:
    """A requirement of one document."""

    id: str
    document_id: str
    project_id: str
    title: str
    text: str
    status: RequirementStatus
    priority: RequirementPriority
    author: str
    updated_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RequirementChanges:
    """The fields an update sets; None leaves a field as it is."""

    title: str | None = None
    text: str | None = None
    status: RequirementStatus | None = None
    priority: RequirementPriority | None = None

    @property
    def is_empty(self) -> bool:
        """True when the update would change nothing."""
        return all(value is None for value in (self.title, self.text, self.status, self.priority))


def new_id(kind: IdKind) -> str:
    """Return a fresh random id such as `prj_3f9c...` (prefix, underscore, 32 hex digits)."""
    return f"{kind.value}_{secrets.token_hex(_ID_BYTES)}"


def clean_id(field: str, value: str, kind: IdKind) -> str:
    """Return `value` if it has the shape of an id of `kind`.

    Raises:
        InvalidInputError: it does not (the message shows the expected shape).
    """
    text = value.strip() if isinstance(value, str) else ""
    prefix, _, digits = text.partition("_")
    if prefix != kind.value or len(digits) != 2 * _ID_BYTES or not _is_lower_hex(digits):
        raise InvalidInputError(field, f"must be an id such as {kind.value}_ followed by 32 hex digits")
    return text


def clean_optional_id(field: str, value: str | None, kind: IdKind) -> str | None:
    """Return None for None, else `clean_id(field, value, kind)`."""
    return None if value is None else clean_id(field, value, kind)


def clean_org_id(field: str, value: str) -> str:
    """Return the organization id if it is 1 to 64 letters, digits or `_ . : -`.

    Raises:
        InvalidInputError: it is empty, too long or has other characters.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not _ORG_ID.fullmatch(text):
        raise InvalidInputError(field, f"must be 1 to {MAX_ORG_ID_CHARS} letters, digits or _ . : -")
    return text


def clean_name(field: str, value: str) -> str:
    """Return the name or title with surrounding white space removed.

    Raises:
        InvalidInputError: it is empty (or only white space), or longer than 200 characters.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInputError(field, "must not be empty")
    if len(text) > MAX_NAME_CHARS:
        raise InvalidInputError(field, f"must be at most {MAX_NAME_CHARS} characters (got {len(text)})")
    if any(ord(char) < 32 for char in text):
        raise InvalidInputError(field, "must be a single line without control characters")
    return text


def clean_text(field: str, value: str, *, max_chars: int, required: bool = False) -> str:
    """Return free text with surrounding white space removed.

    Raises:
        InvalidInputError: it is longer than `max_chars`, or empty while `required`.
    """
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInputError(field, "must not be empty")
    if len(text) > max_chars:
        raise InvalidInputError(field, f"must be at most {max_chars} characters (got {len(text)})")
    return text


def clean_description(field: str, value: str) -> str:
    """Return an optional description (at most 10000 characters; empty is fine).

    Raises:
        InvalidInputError: it is too long.
    """
    return clean_text(field, value, max_chars=MAX_DESCRIPTION_CHARS)


def clean_requirement_text(field: str, value: str) -> str:
    """Return a requirement's text (1 to 20000 characters).

    Raises:
        InvalidInputError: it is empty or too long.
    """
    return clean_text(field, value, max_chars=MAX_REQUIREMENT_TEXT_CHARS, required=True)


def clean_actor(value: str) -> str:
    """Return who acts (a user id or `service:<name>`), 1 to 255 characters.

    Raises:
        InvalidInputError: it is empty or too long.
    """
    actor = value.strip() if isinstance(value, str) else ""
    if not actor or len(actor) > MAX_ACTOR_CHARS:
        raise InvalidInputError("author", f"must be 1 to {MAX_ACTOR_CHARS} characters")
    return actor


def clean_changes(changes: RequirementChanges) -> dict[str, str]:
    """Return the column values an update sets, each checked like on creation.

    Raises:
        InvalidInputError: nothing would change, or a new value is out of bounds.
    """
    if changes.is_empty:
        raise InvalidInputError("changes", "give at least one of title, text, status or priority")
    values: dict[str, str] = {}
    if changes.title is not None:
        values["title"] = clean_name("title", changes.title)
    if changes.text is not None:
        values["text"] = clean_requirement_text("text", changes.text)
    if changes.status is not None:
        values["status"] = clean_status("status", changes.status).value
    if changes.priority is not None:
        values["priority"] = clean_priority("priority", changes.priority).value
    return values


def clean_status(field: str, value: str | RequirementStatus) -> RequirementStatus:
    """Return the status named by `value`.

    Raises:
        InvalidInputError: it is not one of the statuses (the message lists them).
    """
    return _member(RequirementStatus, field, value)


def clean_priority(field: str, value: str | RequirementPriority) -> RequirementPriority:
    """Return the priority named by `value`.

    Raises:
        InvalidInputError: it is not one of the priorities (the message lists them).
    """
    return _member(RequirementPriority, field, value)


def clean_page(limit: int, offset: int) -> tuple[int, int]:
    """Return `(limit, offset)` if the limit is 1 to 200 and the offset 0 to 100000.

    Raises:
        InvalidInputError: either is out of range.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInputError("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInputError("offset", f"must be between 0 and {MAX_OFFSET}")
    return limit, offset


def _member(enum_type: type[_E], field: str, value: str | _E) -> _E:
    try:
        return enum_type(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise InvalidInputError(field, f"must be one of {allowed} (got {value!r})") from None


def _is_lower_hex(text: str) -> bool:
    return all(char in "0123456789abcdef" for char in text)
