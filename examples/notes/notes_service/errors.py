"""The notes service's refusals; the kit's StatusMappingInterceptor turns each into its status."""

from __future__ import annotations

import grpc

from atoms_grpc import ServiceError

NOTES_ERROR_DOMAIN = "notes.atoms.example"


class NotesError(ServiceError):
    """Root of the notes service's errors."""

    domain = NOTES_ERROR_DOMAIN


class OrganizationRequiredError(NotesError):
    """The caller's token names no organization (an internal token, or a user outside any)."""

    status_code = grpc.StatusCode.PERMISSION_DENIED
    reason = "ORGANIZATION_REQUIRED"


class InvalidNoteError(NotesError):
    """A field of the request is out of bounds; `metadata["field"]` names it."""

    status_code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_NOTE"


class AtomsToolError(NotesError):
    """The Atoms MCP tool answered with an error result or without the expected content."""

    status_code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "ATOMS_TOOL_FAILED"
