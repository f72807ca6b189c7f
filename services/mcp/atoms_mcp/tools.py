"""AtomsTools: the MCP tools of the Atoms MCP service, on the store, for the calling organization.

Each tool finds its caller (`CallerSource`), checks what the caller may do (`Caller`), and
calls the store with the caller's organization. `AtomsError`s become FastMCP `ToolError`s
with their message in exactly one place (`_reporting_refusals`); any other exception is
masked by FastMCP (`mask_error_details=True`) and logged there.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ParamSpec, TypeVar

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from atoms_mcp.atoms_model import (
    DEFAULT_PAGE_SIZE,
    Document,
    Project,
    Requirement,
    RequirementChanges,
    RequirementPriority,
    RequirementStatus,
)
from atoms_mcp.atoms_store import AtomsStore
from atoms_mcp.caller import CallerSource, Permission
from atoms_mcp.errors import AccessDeniedError, AtomsError

logger = logging.getLogger(__name__)

_P = ParamSpec("_P")
_R = TypeVar("_R")
_READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_CREATE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
_UPDATE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

Limit = Annotated[int, Field(ge=1, le=200, description="page size, 1 to 200")]
Offset = Annotated[int, Field(ge=0, description="how many results to skip (for the next page)")]
ProjectId = Annotated[str, Field(description="a project id, prj_...")]
DocumentId = Annotated[str, Field(description="a document id, doc_...")]


@dataclass(frozen=True, slots=True)
class WhoAmI:
    """The caller as the auth service sees them, and what they may do here."""

    kind: str
    subject: str
    issuer: str
    org_id: str
    session_id: str
    role: str
    roles: tuple[str, ...]
    permissions: tuple[str, ...]
    scopes: tuple[str, ...]
    client_id: str
    service_name: str
    actor: str  # who acts on the user's behalf in an impersonated session (act.sub); "" otherwise
    expires_at: datetime | None
    may_write: tuple[str, ...]
    insecure_dev: bool


@dataclass(frozen=True, slots=True)
class ProjectList:
    """A page of projects."""

    projects: tuple[Project, ...]
    has_more: bool


@dataclass(frozen=True, slots=True)
class DocumentList:
    """A page of documents."""

    documents: tuple[Document, ...]
    has_more: bool


@dataclass(frozen=True, slots=True)
class RequirementList:
    """A page of requirements."""

    requirements: tuple[Requirement, ...]
    has_more: bool


class AtomsTools:
    """The tools; `register(mcp)` adds them to a FastMCP server."""

    def __init__(self, *, store: AtomsStore, callers: CallerSource) -> None:
        """Args:
        store: the domain store; the caller owns it.
        callers: finds the caller of the request being handled.
        """
        self._store = store
        self._callers = callers

    def register(self, mcp: FastMCP[Any]) -> None:
        """Add every tool to `mcp`."""
        tools: tuple[tuple[Callable[..., Awaitable[Any]], ToolAnnotations], ...] = (
            (self.whoami, _READ),
            (self.list_projects, _READ),
            (self.create_project, _CREATE),
            (self.list_documents, _READ),
            (self.create_document, _CREATE),
            (self.list_requirements, _READ),
            (self.create_requirement, _CREATE),
            (self.update_requirement, _UPDATE),
        )
        for method, hints in tools:
            mcp.tool(_reporting_refusals(method), annotations=hints)

    async def whoami(self) -> WhoAmI:
        """Return who you are: your user or service, organization, role, permissions and scopes."""
        caller = self._callers.current()
        principal = caller.principal
        return WhoAmI(
            kind=principal.kind.name.lower(),
            subject=principal.subject,
            issuer=principal.issuer,
            org_id=caller.org_id,
            session_id=principal.session_id,
            role=principal.role,
            roles=principal.roles,
            permissions=principal.permissions,
            scopes=principal.scopes,
            client_id=principal.client_id,
            service_name=principal.service_name,
            actor=principal.actor,
            expires_at=principal.expires_at,
            may_write=tuple(p.value for p in Permission if caller.may(p)),
            insecure_dev=caller.insecure_dev,
        )

    async def list_projects(self, limit: Limit = DEFAULT_PAGE_SIZE, offset: Offset = 0) -> ProjectList:
        """List your organization's projects, oldest first."""
        org_id = self._callers.current().require_org()
        page = await self._store.list_projects(org_id, limit=limit, offset=offset)
        return ProjectList(projects=page.items, has_more=page.has_more)

    async def create_project(
        self,
        name: Annotated[str, Field(description="unique in your organization, 1 to 200 characters")],
        description: Annotated[str, Field(description="optional, at most 10000 characters")] = "",
    ) -> Project:
        """Create a project in your organization (needs the projects:write permission)."""
        caller = self._callers.current()
        org_id = caller.require(Permission.PROJECTS_WRITE)
        project = await self._store.create_project(
            org_id, name=name, description=description, author=caller.author
        )
        logger.info("project %s created in org %s by %s", project.id, org_id, caller.author)
        return project

    async def list_documents(
        self, project_id: ProjectId, limit: Limit = DEFAULT_PAGE_SIZE, offset: Offset = 0
    ) -> DocumentList:
        """List a project's documents, oldest first."""
        org_id = self._callers.current().require_org()
        page = await self._store.list_documents(org_id, project_id, limit=limit, offset=offset)
        return DocumentList(documents=page.items, has_more=page.has_more)

    async def create_document(
        self,
        project_id: ProjectId,
        title: Annotated[str, Field(description="1 to 200 characters")],
        description: Annotated[str, Field(description="optional, at most 10000 characters")] = "",
    ) -> Document:
        """Create a document in a project (needs the documents:write permission)."""
        caller = self._callers.current()
        org_id = caller.require(Permission.DOCUMENTS_WRITE)
        document = await self._store.create_document(
            org_id, project_id, title=title, description=description, author=caller.author
        )
        logger.info("document %s created in org %s by %s", document.id, org_id, caller.author)
        return document

    async def list_requirements(
        self,
        document_id: Annotated[str | None, Field(description="only this document's (doc_...)")] = None,
        project_id: Annotated[str | None, Field(description="only this project's (prj_...)")] = None,
        status: Annotated[RequirementStatus | None, Field(description="only in this status")] = None,
        query: Annotated[str | None, Field(description="only those whose title or text contains it")] = None,
        limit: Limit = DEFAULT_PAGE_SIZE,
        offset: Offset = 0,
    ) -> RequirementList:
        """List your organization's requirements, filtered by document, project, status and text."""
        org_id = self._callers.current().require_org()
        page = await self._store.list_requirements(
            org_id,
            document_id=document_id,
            project_id=project_id,
            status=status,
            query=query,
            limit=limit,
            offset=offset,
        )
        return RequirementList(requirements=page.items, has_more=page.has_more)

    async def create_requirement(
        self,
        document_id: DocumentId,
        title: Annotated[str, Field(description="1 to 200 characters")],
        text: Annotated[str, Field(description="the requirement itself, 1 to 20000 characters")],
        status: RequirementStatus = RequirementStatus.DRAFT,
        priority: RequirementPriority = RequirementPriority.MEDIUM,
    ) -> Requirement:
        """Add a requirement to a document (needs the requirements:write permission)."""
        caller = self._callers.current()
        org_id = caller.require(Permission.REQUIREMENTS_WRITE)
        requirement = await self._store.create_requirement(
            org_id,
            document_id,
            title=title,
            text=text,
            status=status,
            priority=priority,
            author=caller.author,
        )
        logger.info("requirement %s created in org %s by %s", requirement.id, org_id, caller.author)
        return requirement

    async def update_requirement(
        self,
        requirement_id: Annotated[str, Field(description="a requirement id, req_...")],
        title: str | None = None,
        text: str | None = None,
        status: RequirementStatus | None = None,
        priority: RequirementPriority | None = None,
    ) -> Requirement:
        """Change a requirement's title, text, status or priority (needs requirements:write)."""
        caller = self._callers.current()
        org_id = caller.require(Permission.REQUIREMENTS_WRITE)
        changes = RequirementChanges(title=title, text=text, status=status, priority=priority)
        requirement = await self._store.update_requirement(
            org_id, requirement_id, changes, author=caller.author
        )
        logger.info("requirement %s updated in org %s by %s", requirement.id, org_id, caller.author)
        return requirement


def _reporting_refusals(method: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """Wrap a tool so that an `AtomsError` reaches the client as a ToolError with its message."""

    @functools.wraps(method)
    async def tool(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await method(*args, **kwargs)
        except AtomsError as err:
            # Refusals are routine (a typo, a stale id); a denied access may be probing: WARNING.
            level = logging.WARNING if isinstance(err, AccessDeniedError) else logging.INFO
            raise ToolError(err.message, log_level=level) from err

    return tool
