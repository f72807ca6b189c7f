"""The SQLite side of AtomsStore: the file under var/ is created and migrated on start, and only once."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from atoms_mcp.atoms_store import AtomsStore
from atoms_mcp.store_schema import SCHEMA_VERSION


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _versions(path: Path) -> list[int]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return [
            row[0] for row in connection.execute("SELECT version FROM atoms_schema_version ORDER BY version")
        ]


async def test_opening_creates_the_file_its_directory_and_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "var" / "mcp" / "atoms.db"
    store = await AtomsStore.open(_url(path))
    await store.close()
    assert path.is_file()
    assert _versions(path) == list(range(1, SCHEMA_VERSION + 1))


async def test_reopening_keeps_the_rows_and_applies_no_migration_twice(tmp_path: Path) -> None:
    path = tmp_path / "atoms.db"
    store = await AtomsStore.open(_url(path))
    project = await store.create_project("org_1", name="Kept", description="", author="user_1")
    await store.close()
    store = await AtomsStore.open(_url(path))
    try:
        assert [p.id for p in (await store.list_projects("org_1")).items] == [project.id]
    finally:
        await store.close()
    assert _versions(path) == list(range(1, SCHEMA_VERSION + 1))


async def test_a_database_migrated_by_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "atoms.db"
    await (await AtomsStore.open(_url(path))).close()
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("INSERT INTO atoms_schema_version VALUES (?, '2030-01-01')", (SCHEMA_VERSION + 1,))
    with pytest.raises(RuntimeError, match="newer than this release"):
        await AtomsStore.open(_url(path))


async def test_ping_answers_while_the_database_is_reachable(tmp_path: Path) -> None:
    store = await AtomsStore.open(_url(tmp_path / "atoms.db"))
    try:
        await store.ping()
    finally:
        await store.close()
