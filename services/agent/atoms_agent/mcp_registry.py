"""McpRegistry: the organization and user MCP servers registered through the API.

System servers are not stored: they come from the first-party list in configuration. A
stored credential (`bearer_token`) is written once and read only by the agent when it calls
the server; nothing that leaves this module for a caller carries it.

A registration checks the owner's limit and the name and inserts in one transaction that
first takes the owner's lock (SQLite: the database's write lock; PostgreSQL: an advisory lock
per owner), so concurrent registrations can neither exceed the limit nor collide on a name.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import MetaData as SqlMetaData
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from atoms_agent.errors import McpServerLimitError, McpServerNameTakenError
from atoms_grpc.principal import Principal
from atoms_grpc.sql_database import SchemaMigrator, create_database_engine

_MIGRATION_LOCK_KEY = 0x4147454E54  # "AGENT": shared by every replica


class ServerScope(enum.StrEnum):
    """Who a registration belongs to."""

    SYSTEM = "system"
    ORGANIZATION = "organization"
    USER = "user"


class AuthType(enum.StrEnum):
    """How the agent authenticates to a server."""

    NONE = "none"
    INTERNAL = "internal"
    BEARER = "bearer"


@dataclass(frozen=True, slots=True)
class RegisteredMcpServer:
    """A registry entry. `bearer_token` is for the agent's own calls only."""

    id: str
    scope: ServerScope
    org_id: str
    user_id: str
    name: str
    url: str
    auth_type: AuthType
    enabled: bool
    created_at: datetime | None
    bearer_token: str = ""
    created_by: str = ""

    def __repr__(self) -> str:
        # Never show bearer_token, even in a debugger or a log line.
        return f"RegisteredMcpServer(id={self.id!r}, name={self.name!r}, scope={self.scope.value})"


@dataclass(frozen=True, slots=True)
class NewMcpServer:
    """A validated registration request."""

    name: str
    url: str
    scope: ServerScope
    auth_type: AuthType
    bearer_token: str = ""


_metadata = SqlMetaData()
mcp_servers = Table(
    "agent_mcp_servers",
    _metadata,
    Column("id", String(40), primary_key=True),
    Column("scope", String(16), nullable=False),
    Column("org_id", String(64), nullable=False),
    Column("user_id", String(255), nullable=False),  # "" for organization servers
    Column("name", String(64), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("transport", String(32), nullable=False),
    Column("auth_type", String(16), nullable=False),
    Column("bearer_token", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("org_id", "user_id", "name", name="uq_agent_mcp_servers_owner_name"),
    Index("ix_agent_mcp_servers_owner", "org_id", "user_id"),
)


def _create_tables(connection: Connection) -> None:
    _metadata.create_all(connection, tables=[mcp_servers])


MIGRATOR = SchemaMigrator(
    version_table="agent_schema_version", migrations=((1, _create_tables),), lock_key=_MIGRATION_LOCK_KEY
)


class McpRegistry:
    """Organization and user MCP servers in a SQL database, always filtered by the caller."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._version = 0

    @property
    def version(self) -> int:
        """Grows on every change this process makes (register, delete): cached reads key on it."""
        return self._version

    @classmethod
    async def open(cls, database_url: str) -> McpRegistry:
        """Connect, apply migrations, and return the registry."""
        engine = create_database_engine(database_url)
        async with engine.begin() as connection:
            await connection.run_sync(MIGRATOR.migrate)
        return cls(engine)

    async def close(self) -> None:
        """Release the connection pool."""
        await self._engine.dispose()

    async def list_visible(self, principal: Principal) -> list[RegisteredMcpServer]:
        """The caller's organization's servers, then the caller's own, oldest first."""
        query = (
            select(mcp_servers)
            .where(_visible_to(principal))
            .order_by(mcp_servers.c.scope, mcp_servers.c.created_at)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [_from_row(row) for row in rows]

    async def count_owned(self, principal: Principal, scope: ServerScope) -> int:
        """How many servers the caller's organization (or the caller) has in `scope`."""
        query = select(func.count()).select_from(mcp_servers).where(_owned_by(principal, scope))
        async with self._engine.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def register(
        self, principal: Principal, server: NewMcpServer, *, limit: int | None = None
    ) -> RegisteredMcpServer:
        """Store a new server, unless its owner already has `limit` servers in that scope or the name.

        `limit` None checks no limit (the servicer always passes the configured one).

        Raises:
            McpServerLimitError: the owner has `limit` servers in that scope.
            McpServerNameTakenError: the name is taken in that scope.
        """
        entry = RegisteredMcpServer(
            id=f"mcp_{secrets.token_urlsafe(16)}",
            scope=server.scope,
            org_id=principal.org_id,
            user_id=principal.subject if server.scope is ServerScope.USER else "",
            name=server.name,
            url=server.url,
            auth_type=server.auth_type,
            enabled=True,
            created_at=datetime.now(UTC),
            bearer_token=server.bearer_token,
            created_by=principal.subject,
        )
        try:
            async with self._engine.begin() as connection:
                await _lock_owner(connection, entry.org_id, entry.user_id)
                await _check_room(connection, principal, entry, limit)
                await connection.execute(insert(mcp_servers).values(**_to_row(entry)))
        except IntegrityError as err:  # the unique constraint has the last word on names
            raise _name_taken(entry.name) from err
        finally:
            self._version += 1  # even on failure: the row may exist, never trust an older read
        return entry

    async def delete(self, principal: Principal, server_id: str, *, may_manage_org: bool) -> bool:
        """Delete a server the caller owns (or an organization server, for an org manager).

        Returns:
            False when no such server is visible to the caller or the caller may not delete it.
        """
        allowed = _owned_by(principal, ServerScope.USER)
        if may_manage_org:
            allowed = or_(allowed, _owned_by(principal, ServerScope.ORGANIZATION))
        try:
            async with self._engine.begin() as connection:
                result = await connection.execute(
                    delete(mcp_servers).where(and_(mcp_servers.c.id == server_id, allowed))
                )
        finally:
            self._version += 1  # even on failure: the row may be gone, never trust an older read
        return bool(result.rowcount)


async def _lock_owner(connection: AsyncConnection, org_id: str, user_id: str) -> None:
    """Serialize registrations of one owner until the transaction ends."""
    if connection.dialect.name == "postgresql":
        digest = hashlib.sha256(f"agent-registration\0{org_id}\0{user_id}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        return
    # SQLite has one writer at a time: a write that changes nothing takes the write lock now,
    # before the count, instead of at the insert (two counts could then both see room).
    await connection.execute(update(mcp_servers).where(false()).values(name=mcp_servers.c.name))


async def _check_room(
    connection: AsyncConnection, principal: Principal, entry: RegisteredMcpServer, limit: int | None
) -> None:
    owned = select(func.count()).select_from(mcp_servers).where(_owned_by(principal, entry.scope))
    if limit is not None and int((await connection.execute(owned)).scalar_one()) >= limit:
        raise McpServerLimitError(f"at most {limit} {entry.scope.value} servers may be registered")
    same_name = select(mcp_servers.c.id).where(
        and_(
            mcp_servers.c.org_id == entry.org_id,
            mcp_servers.c.user_id == entry.user_id,
            mcp_servers.c.name == entry.name,
        )
    )
    if (await connection.execute(same_name)).first() is not None:
        raise _name_taken(entry.name)


def _name_taken(name: str) -> McpServerNameTakenError:
    return McpServerNameTakenError(f"an MCP server named {name!r} already exists in that scope")


def _owned_by(principal: Principal, scope: ServerScope) -> ColumnElement[bool]:
    user_id = principal.subject if scope is ServerScope.USER else ""
    return and_(
        mcp_servers.c.org_id == principal.org_id,
        mcp_servers.c.user_id == user_id,
        mcp_servers.c.scope == scope.value,
    )


def _visible_to(principal: Principal) -> ColumnElement[bool]:
    return or_(_owned_by(principal, ServerScope.ORGANIZATION), _owned_by(principal, ServerScope.USER))


def _to_row(entry: RegisteredMcpServer) -> dict[str, object]:
    return {
        "id": entry.id,
        "scope": entry.scope.value,
        "org_id": entry.org_id,
        "user_id": entry.user_id,
        "name": entry.name,
        "url": entry.url,
        "transport": "streamable_http",
        "auth_type": entry.auth_type.value,
        "bearer_token": entry.bearer_token,
        "enabled": entry.enabled,
        "created_by": entry.created_by,
        "created_at": entry.created_at,
    }


def _from_row(row: object) -> RegisteredMcpServer:
    values = dict(row)  # type: ignore[call-overload]
    created_at = values["created_at"]
    if created_at is not None and created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)  # SQLite drops the zone
    return RegisteredMcpServer(
        id=values["id"],
        scope=ServerScope(values["scope"]),
        org_id=values["org_id"],
        user_id=values["user_id"],
        name=values["name"],
        url=values["url"],
        auth_type=AuthType(values["auth_type"]),
        enabled=bool(values["enabled"]),
        created_at=created_at,
        bearer_token=values["bearer_token"],
        created_by=values["created_by"],
    )
