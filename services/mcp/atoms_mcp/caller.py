"""Caller: who is calling a tool, for which organization, and what they may change.

Organization
    A user acts for the `org_id` of their session token. An internal service token (a named
    system service, kind INTERNAL) has no organization of its own and must name the one it
    acts for in the `X-Atoms-Org-Id` HTTP header; org-scoped tools refuse it without one.
    A user may send the header only with their own organization (a different one is
    refused, so a user cannot act for another organization by adding a header).

Write permissions (reads need only an organization)
    | tool                                        | permission           |
    |---------------------------------------------|----------------------|
    | create_project                              | `projects:write`     |
    | create_document                             | `documents:write`    |
    | create_requirement, update_requirement      | `requirements:write` |
    A user holds a permission when the token's `permissions` claim lists it, or when the
    user's `role` / `roles` include `admin`. An internal service holds it when its token's
    scopes list it (`scopes` in ATOMS_INTERNAL_TOKENS_FILE); internal tokens are read-only
    otherwise.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from fastmcp.server.dependencies import get_access_token, get_http_headers

from atoms_grpc.principal import Principal, PrincipalKind
from atoms_mcp.atoms_model import clean_org_id
from atoms_mcp.errors import AccessDeniedError, MissingOrganizationError, MissingPermissionError
from atoms_mcp.token_verifier import AtomsAccessToken

ORG_HEADER = "x-atoms-org-id"
ADMIN_ROLE = "admin"
INSECURE_DEV_ORG = "org_insecure_dev"
INSECURE_DEV_PRINCIPAL = Principal(
    kind=PrincipalKind.USER,
    subject="user_insecure_dev",
    issuer="insecure-dev",
    org_id=INSECURE_DEV_ORG,
    role=ADMIN_ROLE,
    roles=(ADMIN_ROLE,),
)
"""Who every call is in `--insecure-dev` mode without authentication (X-Atoms-Org-Id picks the org)."""


class Permission(enum.StrEnum):
    """A write permission, as AuthKit names permissions."""

    PROJECTS_WRITE = "projects:write"
    DOCUMENTS_WRITE = "documents:write"
    REQUIREMENTS_WRITE = "requirements:write"


@dataclass(frozen=True, slots=True)
class Caller:
    """A principal and the organization it acts for ("" when it has none)."""

    principal: Principal
    org_id: str
    insecure_dev: bool = False

    @property
    def author(self) -> str:
        """Who is recorded as author: the user id, or `service:<name>` for an internal service."""
        return self.principal.subject

    def require_org(self) -> str:
        """Return the organization to act for.

        Raises:
            MissingOrganizationError: there is none (the message says how to supply one).
        """
        if self.org_id:
            return self.org_id
        if self.principal.is_internal:
            raise MissingOrganizationError(
                "an internal service token must name the organization it acts for in the "
                "X-Atoms-Org-Id HTTP header"
            )
        raise MissingOrganizationError("your session has no organization; sign in to an organization first")

    def may(self, permission: Permission) -> bool:
        """True when the caller holds `permission` (see the module docstring for the rules)."""
        if self.principal.is_internal:
            return permission.value in self.principal.scopes
        if ADMIN_ROLE in (self.principal.role, *self.principal.roles):
            return True
        return permission.value in self.principal.permissions

    def require(self, permission: Permission) -> str:
        """Return the organization to write in, if the caller may write there.

        Raises:
            MissingOrganizationError: there is no organization to act for.
            MissingPermissionError: the caller does not hold `permission`.
        """
        org_id = self.require_org()
        if not self.may(permission):
            raise MissingPermissionError(permission.value)
        return org_id


def resolve_caller(principal: Principal, org_header: str | None) -> Caller:
    """Decide which organization `principal` acts for, given the `X-Atoms-Org-Id` header.

    Raises:
        InvalidInputError: the header is malformed.
        AccessDeniedError: a user named an organization other than their session's.
    """
    if principal.is_internal:
        return Caller(principal, "" if org_header is None else clean_org_id("X-Atoms-Org-Id", org_header))
    if org_header is not None and org_header.strip() != principal.org_id:
        raise AccessDeniedError(
            "X-Atoms-Org-Id is for internal service tokens; a user acts for the organization of "
            "their session and cannot name another"
        )
    return Caller(principal, principal.org_id)


class CallerSource:
    """Finds the caller of the tool call being handled (FastMCP request context)."""

    def __init__(self, *, insecure_dev: bool) -> None:
        """Args:
        insecure_dev: the server runs without authentication; every call is `INSECURE_DEV_PRINCIPAL`.
        """
        self._insecure_dev = insecure_dev

    def current(self) -> Caller:
        """Return the caller of the current request.

        Raises:
            InvalidInputError: the X-Atoms-Org-Id header is malformed.
            AccessDeniedError: a user named another organization.
            RuntimeError: no authenticated principal (the auth middleware is not installed).
        """
        org_header = get_http_headers().get(ORG_HEADER)
        if self._insecure_dev:
            org_id = INSECURE_DEV_ORG if org_header is None else clean_org_id("X-Atoms-Org-Id", org_header)
            return Caller(replace(INSECURE_DEV_PRINCIPAL, org_id=org_id), org_id, insecure_dev=True)
        access_token = get_access_token()
        if not isinstance(access_token, AtomsAccessToken):
            raise RuntimeError("no Atoms principal on the request: is AtomsAuthProvider installed?")
        return resolve_caller(access_token.principal, org_header)
