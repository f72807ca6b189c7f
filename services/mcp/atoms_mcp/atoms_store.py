"""AtomsStore: projects, documents and requirements in SQLite or PostgreSQL, one organization at a time.

Every public method takes the caller's `org_id` first and filters every statement by it, so
a row of another organization is indistinguishable from a missing row (`NotFoundError`).
Every method validates its arguments (`InvalidInputError`) before touching the database.
One code path serves both databases through SQLAlchemy's async engine (aiosqlite, asyncpg).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from atoms_grpc.sql_database import create_database_engine
from atoms_mcp import atoms_model as model
from atoms_mcp.atoms_model import (
    Document,
    IdKind,
    Project,
    Requirement,
    RequirementChanges,
    RequirementPriority,
    RequirementStatus,
)
from atoms_mcp.errors import ConflictError, NotFoundError
from atoms_mcp.store_schema import (
    MIGRATOR,
    document_from_row,
    documents,
    project_from_row,
    projects,
    requirement_from_row,
    requirements,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; `has_more` says whether a larger offset would find more."""

    items: tuple[T, ...]
    has_more: bool


class AtomsStore:
    """The Atoms domain store; open it with `AtomsStore.open(url)` and `close()` it at shutdown."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use an engine whose schema is already migrated (`open` does both).

        Args:
            engine: the async engine; the store disposes of it in `close()`.
        """
        self._engine = engine

    @classmethod
    async def open(cls, database_url: str) -> AtomsStore:
        """Connect, create the SQLite file's directory if needed, and migrate the schema.

        Args:
            database_url: `sqlite+aiosqlite:///path.db` or `postgresql+asyncpg://...`.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database cannot be reached or migrated.
        """
        engine = create_database_engine(database_url)
        try:
            async with engine.begin() as connection:
                before = await connection.run_sync(MIGRATOR.migrate)
        except BaseException:
            await engine.dispose()
            raise
        logger.info("store opened: %s database (schema version %d before start)", engine.dialect.name, before)
        return cls(engine)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    async def ping(self) -> None:
        """Run a trivial query; raises if the database is unreachable."""
        async with self._engine.connect() as connection:
            await connection.execute(select(1))

    async def list_projects(
        self, org_id: str, *, limit: int = model.DEFAULT_PAGE_SIZE, offset: int = 0
    ) -> Page[Project]:
        """Return the organization's projects, oldest first."""
        org_id = model.clean_org_id("org_id", org_id)
        limit, offset = model.clean_page(limit, offset)
        query = select(projects).where(projects.c.org_id == org_id)
        query = query.order_by(projects.c.created_at, projects.c.id).limit(limit + 1).offset(offset)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return _page([project_from_row(row._mapping) for row in rows], limit)

    async def create_project(self, org_id: str, *, name: str, description: str, author: str) -> Project:
        """Add a project; its name must be unique within the organization.

        Raises:
            InvalidInputError: an argument is out of bounds.
            ConflictError: the organization already has a project of that name.
        """
        now = _now()
        row: dict[str, Any] = {
            "id": model.new_id(IdKind.PROJECT),
            "org_id": model.clean_org_id("org_id", org_id),
            "name": model.clean_name("name", name),
            "description": model.clean_description("description", description),
            "created_by": model.clean_actor(author),
            "created_at": now,
            "updated_at": now,
        }
        try:
            async with self._engine.begin() as connection:
                await connection.execute(projects.insert().values(row))
        except IntegrityError as err:
            raise ConflictError(f"name: a project named {row['name']!r} already exists") from err
        return project_from_row(row)

    async def list_documents(
        self, org_id: str, project_id: str, *, limit: int = model.DEFAULT_PAGE_SIZE, offset: int = 0
    ) -> Page[Document]:
        """Return a project's documents, oldest first.

        Raises:
            NotFoundError: the project is not in the organization.
        """
        org_id = model.clean_org_id("org_id", org_id)
        project_id = model.clean_id("project_id", project_id, IdKind.PROJECT)
        limit, offset = model.clean_page(limit, offset)
        query = select(documents).where(documents.c.org_id == org_id, documents.c.project_id == project_id)
        query = query.order_by(documents.c.created_at, documents.c.id).limit(limit + 1).offset(offset)
        async with self._engine.connect() as connection:
            await _require_project(connection, org_id, project_id)
            rows = (await connection.execute(query)).all()
        return _page([document_from_row(row._mapping) for row in rows], limit)

    async def create_document(
        self, org_id: str, project_id: str, *, title: str, description: str, author: str
    ) -> Document:
        """Add a document to a project.

        Raises:
            InvalidInputError: an argument is out of bounds.
            NotFoundError: the project is not in the organization.
        """
        org_id = model.clean_org_id("org_id", org_id)
        now = _now()
        row: dict[str, Any] = {
            "id": model.new_id(IdKind.DOCUMENT),
            "org_id": org_id,
            "project_id": model.clean_id("project_id", project_id, IdKind.PROJECT),
            "title": model.clean_name("title", title),
            "description": model.clean_description("description", description),
            "created_by": model.clean_actor(author),
            "created_at": now,
            "updated_at": now,
        }
        async with self._engine.begin() as connection:
            await _require_project(connection, org_id, row["project_id"])
            await connection.execute(documents.insert().values(row))
        return document_from_row(row)

    async def list_requirements(
        self,
        org_id: str,
        *,
        document_id: str | None = None,
        project_id: str | None = None,
        status: str | RequirementStatus | None = None,
        query: str | None = None,
        limit: int = model.DEFAULT_PAGE_SIZE,
        offset: int = 0,
    ) -> Page[Requirement]:
        """Return the organization's requirements matching every filter given, oldest first.

        Args:
            org_id: the caller's organization.
            document_id: only this document's requirements.
            project_id: only this project's requirements.
            status: only requirements in this status.
            query: only requirements whose title or text contains it (case-insensitive).
            limit: page size, 1 to 200.
            offset: how many matching requirements to skip.

        Raises:
            InvalidInputError: a filter is malformed.
            NotFoundError: `document_id` or `project_id` is not in the organization.
        """
        org_id = model.clean_org_id("org_id", org_id)
        limit, offset = model.clean_page(limit, offset)
        document_id = model.clean_optional_id("document_id", document_id, IdKind.DOCUMENT)
        project_id = model.clean_optional_id("project_id", project_id, IdKind.PROJECT)
        conditions = _requirement_filters(org_id, document_id, project_id, status, query)
        statement = select(requirements).where(*conditions)
        statement = statement.order_by(requirements.c.created_at, requirements.c.id)
        async with self._engine.connect() as connection:
            if document_id is not None:
                await _require_document(connection, org_id, document_id)
            if project_id is not None:
                await _require_project(connection, org_id, project_id)
            rows = (await connection.execute(statement.limit(limit + 1).offset(offset))).all()
        return _page([requirement_from_row(row._mapping) for row in rows], limit)

    async def create_requirement(
        self,
        org_id: str,
        document_id: str,
        *,
        title: str,
        text: str,
        author: str,
        status: str | RequirementStatus = RequirementStatus.DRAFT,
        priority: str | RequirementPriority = RequirementPriority.MEDIUM,
    ) -> Requirement:
        """Add a requirement to a document.

        Raises:
            InvalidInputError: an argument is out of bounds or not an allowed value.
            NotFoundError: the document is not in the organization.
        """
        org_id = model.clean_org_id("org_id", org_id)
        document_id = model.clean_id("document_id", document_id, IdKind.DOCUMENT)
        actor, now = model.clean_actor(author), _now()
        row: dict[str, Any] = {
            "id": model.new_id(IdKind.REQUIREMENT),
            "org_id": org_id,
            "document_id": document_id,
            "title": model.clean_name("title", title),
            "text": model.clean_requirement_text("text", text),
            "status": model.clean_status("status", status).value,
            "priority": model.clean_priority("priority", priority).value,
            "author": actor,
            "updated_by": actor,
            "created_at": now,
            "updated_at": now,
        }
        async with self._engine.begin() as connection:
            row["project_id"] = await _require_document(connection, org_id, document_id)
            await connection.execute(requirements.insert().values(row))
        return requirement_from_row(row)

    async def update_requirement(
        self, org_id: str, requirement_id: str, changes: RequirementChanges, *, author: str
    ) -> Requirement:
        """Change a requirement's title, text, status or priority.

        Raises:
            InvalidInputError: nothing to change, or a new value is out of bounds.
            NotFoundError: the requirement is not in the organization.
        """
        org_id = model.clean_org_id("org_id", org_id)
        requirement_id = model.clean_id("requirement_id", requirement_id, IdKind.REQUIREMENT)
        values: dict[str, Any] = {
            **model.clean_changes(changes),
            "updated_by": model.clean_actor(author),
            "updated_at": _now(),
        }
        scope = (requirements.c.id == requirement_id, requirements.c.org_id == org_id)
        async with self._engine.begin() as connection:
            result = await connection.execute(requirements.update().where(*scope).values(values))
            if result.rowcount != 1:
                raise NotFoundError("requirement", requirement_id)
            row = (await connection.execute(select(requirements).where(*scope))).one()
        return requirement_from_row(row._mapping)


async def _require_project(connection: AsyncConnection, org_id: str, project_id: str) -> None:
    found = await connection.execute(
        select(projects.c.id).where(projects.c.id == project_id, projects.c.org_id == org_id)
    )
    if found.first() is None:
        raise NotFoundError("project", project_id)


async def _require_document(connection: AsyncConnection, org_id: str, document_id: str) -> str:
    """Return the document's project id."""
    found = await connection.execute(
        select(documents.c.project_id).where(documents.c.id == document_id, documents.c.org_id == org_id)
    )
    project_id = found.scalar_one_or_none()
    if project_id is None:
        raise NotFoundError("document", document_id)
    return str(project_id)


def _requirement_filters(
    org_id: str,
    document_id: str | None,
    project_id: str | None,
    status: str | RequirementStatus | None,
    query: str | None,
) -> list[Any]:
    conditions: list[Any] = [requirements.c.org_id == org_id]
    if document_id is not None:
        conditions.append(requirements.c.document_id == document_id)
    if project_id is not None:
        conditions.append(requirements.c.project_id == project_id)
    if status is not None:
        conditions.append(requirements.c.status == model.clean_status("status", status).value)
    needle = "" if query is None else model.clean_text("query", query, max_chars=model.MAX_QUERY_CHARS)
    if needle:
        # autoescape: a caller's % or _ is matched literally, not as a LIKE wildcard.
        in_title = requirements.c.title.icontains(needle, autoescape=True)
        conditions.append(in_title | requirements.c.text.icontains(needle, autoescape=True))
    return conditions


def _now() -> datetime:
    return datetime.now(UTC)


def _page(items: Sequence[T], limit: int) -> Page[T]:
    return Page(items=tuple(items[:limit]), has_more=len(items) > limit)
