"""McpComposer: a caller's MCP server configurations (the backend's `convert_db_server_to_mcp_config`).

The one rule that matters: the caller's token goes into `Authorization` only for a system
server that is first-party by configuration (on the first-party list, auth `internal`,
requiring the user token) AND whose URL origin is on the first-party allow-list. A server a
user registers, whatever its name (`atoms-mcp`, `atoms_mcp`, …), never gets it: the AuthKit integration plan's
name-based detection would leak the token to anyone who picked the right name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from atoms_agent.mcp_registry import AuthType, RegisteredMcpServer, ServerScope
from atoms_agent.url_origin import origin_of
from atoms_agent.url_redaction import may_see_full_url, redacted_url
from atoms_grpc.first_party_mcps import FirstPartyMcp
from atoms_grpc.principal import Principal

logger = logging.getLogger(__name__)

FORWARDED_TOKEN_PLACEHOLDER = "Bearer <forwarded user token>"  # noqa: S105 - a label, not a secret
REDACTED_SECRET_PLACEHOLDER = "Bearer <redacted>"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True, slots=True)
class ComposedMcpServer:
    """One MCP server as the agent will call it for this caller.

    `headers` holds real credentials and stays inside the agent; callers see
    `redacted_headers()`, and `shown_url()` (an organization server's URL without its query
    for a member who may not manage it).
    """

    name: str
    url: str
    scope: ServerScope
    first_party: bool
    forwards_user_token: bool
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    token_expires_at: float | None = None
    url_shown_in_full: bool = True

    def shown_url(self) -> str:
        """The URL as the caller may see it."""
        return self.url if self.url_shown_in_full else redacted_url(self.url)

    def redacted_headers(self) -> dict[str, str]:
        """The headers with every secret replaced by a placeholder."""
        redacted = {}
        for name, value in self.headers.items():
            if name.lower() == "authorization":
                value = (
                    FORWARDED_TOKEN_PLACEHOLDER if self.forwards_user_token else REDACTED_SECRET_PLACEHOLDER
                )
            redacted[name] = value
        return redacted


class RegisteredServerSource(Protocol):
    """Where the caller's registered servers come from: the registry, or a cache in front of it."""

    async def list_visible(self, principal: Principal) -> Sequence[RegisteredMcpServer]:
        """The caller's organization's servers, then the caller's own."""
        ...


@dataclass(frozen=True, slots=True)
class _SystemServer:
    """A first-party list entry with its forwarding rule decided once, at start."""

    entry: FirstPartyMcp
    first_party: bool
    may_forward: bool


class McpComposer:
    """Builds the caller's server list from the first-party list and the registry."""

    def __init__(
        self,
        *,
        first_party: tuple[FirstPartyMcp, ...],
        allowed_origins: frozenset[str],
        registry: RegisteredServerSource,
    ) -> None:
        self._first_party = first_party
        self._allowed_origins = allowed_origins
        self._registry = registry
        # Configuration does not change while the agent runs: the origin rule is decided here,
        # once, not parsed again on every call.
        self._system = tuple(self._system_server_of(entry) for entry in first_party)
        self._system_by_name: dict[str, _SystemServer] = {}
        for system in self._system:
            self._system_by_name.setdefault(system.entry.key, system)

    @property
    def system_names(self) -> frozenset[str]:
        """Names no registration may take."""
        return frozenset(entry.key for entry in self._first_party)

    async def compose(self, principal: Principal, token: str) -> list[ComposedMcpServer]:
        """System servers, then the organization's, then the caller's own; enabled ones only.

        Args:
            principal: the authenticated caller.
            token: the caller's bearer token, forwarded only where the rule above allows.
        """
        expires_at = principal.expires_at.timestamp() if principal.expires_at else None
        servers = [_system_server(system, token, expires_at) for system in self._system]
        taken = {server.name for server in servers}
        for registered in await self._registry.list_visible(principal):
            if not registered.enabled or registered.name in taken:
                continue
            taken.add(registered.name)
            servers.append(_registered_server(registered, principal))
        return servers

    async def find(self, principal: Principal, token: str, name: str) -> ComposedMcpServer | None:
        """The caller's server called `name`, or None; system servers are found without a database query."""
        system = self._system_by_name.get(name)
        if system is not None:
            expires_at = principal.expires_at.timestamp() if principal.expires_at else None
            return _system_server(system, token, expires_at)
        for registered in await self._registry.list_visible(principal):
            if registered.enabled and registered.name == name:
                return _registered_server(registered, principal)
        return None

    def _system_server_of(self, entry: FirstPartyMcp) -> _SystemServer:
        allowed = self._origin_allowed(entry.url)
        if not allowed:
            logger.warning(
                "first-party MCP %s at %s is not on the origin allow-list: it will get no user token",
                entry.key,
                origin_of(entry.url),
            )
        return _SystemServer(
            entry,
            first_party=allowed,
            may_forward=allowed and entry.auth == "internal" and entry.requires_user_token,
        )

    def _origin_allowed(self, url: str) -> bool:
        try:
            return origin_of(url) in self._allowed_origins
        except ValueError:
            return False


def _system_server(system: _SystemServer, token: str, expires_at: float | None) -> ComposedMcpServer:
    forwards = system.may_forward and bool(token)
    return ComposedMcpServer(
        name=system.entry.key,
        url=system.entry.url,
        scope=ServerScope.SYSTEM,
        first_party=system.first_party,
        forwards_user_token=forwards,
        headers={"Authorization": f"Bearer {token}"} if forwards else {},
        token_expires_at=expires_at if forwards else None,
    )


def _registered_server(registered: RegisteredMcpServer, principal: Principal) -> ComposedMcpServer:
    headers = (
        {"Authorization": f"Bearer {registered.bearer_token}"}
        if registered.auth_type is AuthType.BEARER and registered.bearer_token
        else {}
    )
    return ComposedMcpServer(
        name=registered.name,
        url=registered.url,
        scope=registered.scope,
        first_party=False,
        forwards_user_token=False,
        headers=headers,
        url_shown_in_full=may_see_full_url(principal, registered),
    )
