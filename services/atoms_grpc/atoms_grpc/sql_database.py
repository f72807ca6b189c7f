"""The SQL database every stateful Atoms service uses: one async engine, numbered migrations.

SQLite by default (a file under `var/`), PostgreSQL by URL; one code path for both through
SQLAlchemy's async engine.

- SQLite: the file's directory is created, foreign keys are switched on for every connection
  (SQLite ignores them otherwise) and the journal is WAL, so readers keep going while a writer
  commits.
- PostgreSQL: a bounded pool whose connections are checked before use, so a database restart
  costs one failed ping instead of failed requests. Migrations take a transaction-scoped
  advisory lock, so replicas that start together apply them once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, Table, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

logger = logging.getLogger(__name__)

# aiosqlite logs every statement with its parameters at DEBUG, and parameters can hold
# secrets (stored MCP credentials): never let those records through, whatever the root level.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

SQLITE_BUSY_TIMEOUT_S = 30
POSTGRES_POOL_SIZE = 10

Migration = tuple[int, Callable[[Connection], None]]
"""A schema version and the function that brings the database to it."""


def create_database_engine(database_url: str) -> AsyncEngine:
    """Return an engine for `database_url` (`sqlite+aiosqlite:///...` or `postgresql+asyncpg://...`).

    Raises:
        sqlalchemy.exc.ArgumentError: the URL is malformed or names an unknown driver.
        OSError: the SQLite file's directory cannot be created.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(
            url, pool_pre_ping=True, pool_size=POSTGRES_POOL_SIZE, max_overflow=POSTGRES_POOL_SIZE
        )
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class SchemaMigrator:
    """Applies numbered migrations, oldest first, recording each in a version table."""

    def __init__(self, *, version_table: str, migrations: Sequence[Migration], lock_key: int) -> None:
        """Args:
        version_table: the name of this schema's version table (one per service).
        migrations: every migration, oldest first; append new ones, never edit an applied one.
        lock_key: the PostgreSQL advisory lock key, a constant shared by every replica.
        """
        self._table = Table(
            version_table,
            MetaData(),
            Column("version", Integer, primary_key=True, autoincrement=False),
            Column("applied_at", DateTime(timezone=True), nullable=False),
        )
        self._migrations = tuple(migrations)
        self._lock_key = lock_key
        self.latest_version = self._migrations[-1][0] if self._migrations else 0

    def migrate(self, connection: Connection) -> int:
        """Bring the schema to the latest version; run inside a transaction (`engine.begin()`).

        Returns:
            The version the database had before (0 for an empty database).

        Raises:
            RuntimeError: the database was migrated by a newer release than this one.
        """
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self._lock_key})
        self._table.create(connection, checkfirst=True)
        current = connection.execute(select(func.max(self._table.c.version))).scalar() or 0
        if current > self.latest_version:
            raise RuntimeError(
                f"the {self._table.name} schema is at version {current}, "
                f"newer than this release's {self.latest_version}"
            )
        for version, step in self._migrations:
            if version > current:
                step(connection)
                connection.execute(self._table.insert().values(version=version, applied_at=datetime.now(UTC)))
                logger.info("applied %s migration %d", self._table.name, version)
        return current
