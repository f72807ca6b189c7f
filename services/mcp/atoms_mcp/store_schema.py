"""The tables of the Atoms store and the tiny versioned migration that creates them.

One schema for SQLite and PostgreSQL. Every table carries `org_id`, and every index starts
with it, because every query is filtered by the caller's organization. Tables are prefixed
`atoms_` so the store can share a PostgreSQL database with other services' tables.

A migration is a numbered function; the kit's `SchemaMigrator` applies those newer than the
recorded version, in order, inside one transaction (on PostgreSQL under an advisory lock, so
replicas that start together apply them once).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from atoms_grpc.sql_database import Migration, SchemaMigrator
from atoms_mcp.atoms_model import Document, Project, Requirement, RequirementPriority, RequirementStatus

logger = logging.getLogger(__name__)

_ID = 40
_ORG = 64
_NAME = 200
_ACTOR = 255
_ENUM = 20
_MIGRATION_LOCK_KEY = 0x41544F4D53  # "ATOMS": any constant shared by every replica
_Row = TypeVar("_Row", Project, Document, Requirement)

metadata = MetaData()

projects = Table(
    "atoms_projects",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("org_id", String(_ORG), nullable=False),
    Column("name", String(_NAME), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_by", String(_ACTOR), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("org_id", "name", name="uq_atoms_projects_org_name"),
    Index("ix_atoms_projects_org_created", "org_id", "created_at"),
)

documents = Table(
    "atoms_documents",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("org_id", String(_ORG), nullable=False),
    Column("project_id", String(_ID), ForeignKey("atoms_projects.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(_NAME), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_by", String(_ACTOR), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_atoms_documents_org_project", "org_id", "project_id", "created_at"),
)

requirements = Table(
    "atoms_requirements",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("org_id", String(_ORG), nullable=False),
    Column("project_id", String(_ID), ForeignKey("atoms_projects.id", ondelete="CASCADE"), nullable=False),
    Column("document_id", String(_ID), ForeignKey("atoms_documents.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(_NAME), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(_ENUM), nullable=False),
    Column("priority", String(_ENUM), nullable=False),
    Column("author", String(_ACTOR), nullable=False),
    Column("updated_by", String(_ACTOR), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_atoms_requirements_org_document", "org_id", "document_id", "created_at"),
    Index("ix_atoms_requirements_org_project", "org_id", "project_id", "created_at"),
)


def _create_initial_tables(connection: Connection) -> None:
    metadata.create_all(connection, tables=[projects, documents, requirements])


MIGRATIONS: tuple[Migration, ...] = ((1, _create_initial_tables),)
"""Every migration, oldest first. Append new ones; never edit or renumber an applied one."""

MIGRATOR = SchemaMigrator(
    version_table="atoms_schema_version", migrations=MIGRATIONS, lock_key=_MIGRATION_LOCK_KEY
)
SCHEMA_VERSION = MIGRATOR.latest_version


def project_from_row(row: Mapping[Any, Any]) -> Project:
    """Read a `atoms_projects` row (or the values just inserted)."""
    return _read(Project, row)


def document_from_row(row: Mapping[Any, Any]) -> Document:
    """Read a `atoms_documents` row (or the values just inserted)."""
    return _read(Document, row)


def requirement_from_row(row: Mapping[Any, Any]) -> Requirement:
    """Read a `atoms_requirements` row (or the values just inserted)."""
    requirement = _read(Requirement, row)
    return dataclasses.replace(
        requirement,
        status=RequirementStatus(requirement.status),
        priority=RequirementPriority(requirement.priority),
    )


def _read(kind: type[_Row], row: Mapping[Any, Any]) -> _Row:
    values = {field.name: row[field.name] for field in dataclasses.fields(kind)}
    for name in ("created_at", "updated_at"):
        # SQLite hands back naive datetimes; everything stored is UTC.
        moment: datetime = values[name]
        values[name] = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return kind(**values)
