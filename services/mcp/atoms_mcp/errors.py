"""The errors a caller of the Atoms tools can be told about.

Every message is short, actionable, and safe to show to the caller: it names the argument or
the id the caller sent, never another organization's data or an internal detail. The tools
turn these (and only these) into FastMCP `ToolError`s; anything else is masked.

Tree:
    AtomsError
      +-- InvalidInputError       an argument is missing, too long, or not one of the allowed values
      +-- NotFoundError           no such row in the caller's organization (another org's row included)
      +-- ConflictError           the write would break a uniqueness rule (a duplicate project name)
      +-- AccessDeniedError       the caller may not do this
            +-- MissingPermissionError    a write without the permission it needs
            +-- MissingOrganizationError  no organization to act for
"""

from __future__ import annotations


class AtomsError(Exception):
    """A refusal the caller may read; `message` says what went wrong and how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(AtomsError):
    """An argument is unusable; `field` names it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NotFoundError(AtomsError):
    """The row does not exist in the caller's organization.

    A row of another organization is reported exactly like a row that does not exist, so an
    id reveals nothing about who owns it.
    """

    def __init__(self, kind: str, row_id: str) -> None:
        super().__init__(f"{kind} {row_id!r} was not found")
        self.kind = kind
        self.row_id = row_id


class ConflictError(AtomsError):
    """The write would duplicate something that must be unique."""


class AccessDeniedError(AtomsError):
    """The caller is authenticated but may not do this."""


class MissingPermissionError(AccessDeniedError):
    """A write needs a permission the caller's token does not grant."""

    def __init__(self, permission: str) -> None:
        super().__init__(
            f"this needs the {permission!r} permission (or the admin role); your token does not grant it"
        )
        self.permission = permission


class MissingOrganizationError(AccessDeniedError):
    """There is no organization to act for."""
