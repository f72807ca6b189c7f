"""NoteStore: the notes of every organization, in SQLite (default) or PostgreSQL.

Built on the kit's `sql_database`: one async engine, numbered migrations applied at open.
Every query takes the caller's `org_id` first and filters on it; the index starts with it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Index, MetaData, String, Table, Text, select
from sqlalchemy.ext.asyncio import AsyncEngine

from atoms_grpc.sql_database import SchemaMigrator, create_database_engine
from notes_service.errors import InvalidNoteError

MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 10_000
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_MIGRATION_LOCK_KEY = 0x4E4F544553  # "NOTES": any constant shared by every replica

notes_table = Table(
    "notes",
    MetaData(),
    Column("note_id", String(40), primary_key=True),
    Column("org_id", String(64), nullable=False),
    Column("author", String(255), nullable=False),
    Column("title", String(MAX_TITLE_CHARS), nullable=False),
    Column("body", Text, nullable=False),
    Column("create_time", DateTime(timezone=True), nullable=False),
    Index("ix_notes_org_created", "org_id", "create_time"),
)


def _create_notes_table(connection: Connection) -> None:
    notes_table.create(connection)


MIGRATOR = SchemaMigrator(
    version_table="notes_schema_version",
    migrations=[(1, _create_notes_table)],
    lock_key=_MIGRATION_LOCK_KEY,
)


@dataclass(frozen=True, slots=True)
class Note:
    """A stored note."""

    note_id: str
    org_id: str
    author: str
    title: str
    body: str
    create_time: datetime


class NoteStore:
    """Org-scoped notes on one async engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    async def open(cls, database_url: str) -> NoteStore:
        """Connect and migrate (`sqlite+aiosqlite:///path.db` or `postgresql+asyncpg://…`).

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database cannot be reached or migrated.
        """
        engine = create_database_engine(database_url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(MIGRATOR.migrate)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    async def create(self, org_id: str, *, author: str, title: str, body: str) -> Note:
        """Store a new note of `org_id`.

        Raises:
            InvalidNoteError: the title is empty or too long, or the body is too long.
        """
        title = title.strip()
        if not 1 <= len(title) <= MAX_TITLE_CHARS:
            raise InvalidNoteError(
                f"title must be 1 to {MAX_TITLE_CHARS} characters", metadata={"field": "title"}
            )
        if len(body) > MAX_BODY_CHARS:
            raise InvalidNoteError(
                f"body must be at most {MAX_BODY_CHARS} characters", metadata={"field": "body"}
            )
        note = Note(f"note_{uuid.uuid4().hex}", org_id, author, title, body, datetime.now(UTC))
        async with self._engine.begin() as connection:
            await connection.execute(notes_table.insert().values(dataclasses.asdict(note)))
        return note

    async def list_recent(self, org_id: str, *, page_size: int = 0) -> list[Note]:
        """Return up to `page_size` notes of `org_id` (0 means 20), newest first.

        Raises:
            InvalidNoteError: `page_size` is negative or above 100.
        """
        if not 0 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidNoteError(f"page_size must be 0 to {MAX_PAGE_SIZE}", metadata={"field": "page_size"})
        query = (
            select(notes_table)
            .where(notes_table.c.org_id == org_id)
            .order_by(notes_table.c.create_time.desc(), notes_table.c.note_id)
            .limit(page_size or DEFAULT_PAGE_SIZE)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_note_from_row(row._mapping) for row in rows]


def _note_from_row(row: Mapping[Any, Any]) -> Note:
    values = dict(row)
    create_time: datetime = values["create_time"]
    if create_time.tzinfo is None:  # SQLite keeps no time zone; every stored time is UTC
        values["create_time"] = create_time.replace(tzinfo=UTC)
    return Note(**values)
