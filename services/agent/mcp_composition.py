"""McpComposer: a caller's MCP server configurations, as the seed's `convert_db_server_to_mcp_config`.

The one rule that matters: the caller's token goes into `Authorization` only for a system
server that is first-party by configuration (on the first-party list, auth `internal`,
requiring the user token) AND whose URL origin is on the first-party allow-list. A server a
user registers, whatever its name (`atoms-mcp`, `atoms_mcp`, …), never gets it: the seed's
name-based detection would leak the token to anyone who picked the right name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.agent.first_party_mcps import FirstPartyMcp
from services.agent.mcp_registry import AuthType, McpRegistry, RegisteredMcpServer, ServerScope
from services.agent.url_origin import origin_of
from services.atoms_grpc.principal import Principal

logger = logging.getLogger(__name__)

FORWARDED_TOKEN_PLACEHOLDER = "Bearer <forwarded user token>"  # noqa: S105 - a label, not a secret
REDACTED_SECRET_PLACEHOLDER = "Bearer <redacted>"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True, slots=True)
class ComposedMcpServer:
    """One MCP server as the agent will call it for this caller.

    `headers` holds real credentials and stays inside the agent; callers see
    `redacted_headers()`.
    """

    name: str
    url: str
    scope: ServerScope
    first_party: bool
    forwards_user_token: bool
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    token_expires_at: float | None = None

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


class McpComposer:
    """Builds the caller's server list from the first-party list and the registry."""

    def __init__(
        self,
        *,
        first_party: tuple[FirstPartyMcp, ...],
        allowed_origins: frozenset[str],
        registry: McpRegistry,
    ) -> None:
        self._first_party = first_party
        self._allowed_origins = allowed_origins
        self._registry = registry
        for entry in first_party:
            if not self._origin_allowed(entry.url):
                logger.warning(
                    "first-party MCP %s at %s is not on the origin allow-list: it will get no user token",
                    entry.key,
                    origin_of(entry.url),
                )

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
        servers = [self._system_server(entry, token, expires_at) for entry in self._first_party]
        taken = {server.name for server in servers}
        for registered in await self._registry.list_visible(principal):
            if not registered.enabled or registered.name in taken:
                continue
            taken.add(registered.name)
            servers.append(_registered_server(registered))
        return servers

    async def find(self, principal: Principal, token: str, name: str) -> ComposedMcpServer | None:
        """The caller's server called `name`, or None; system servers are found without a database query."""
        expires_at = principal.expires_at.timestamp() if principal.expires_at else None
        for entry in self._first_party:
            if entry.key == name:
                return self._system_server(entry, token, expires_at)
        for registered in await self._registry.list_visible(principal):
            if registered.enabled and registered.name == name:
                return _registered_server(registered)
        return None

    def _system_server(self, entry: FirstPartyMcp, token: str, expires_at: float | None) -> ComposedMcpServer:
        first_party = self._origin_allowed(entry.url)
        forwards = first_party and entry.auth == "internal" and entry.requires_user_token and bool(token)
        return ComposedMcpServer(
            name=entry.key,
            url=entry.url,
            scope=ServerScope.SYSTEM,
            first_party=first_party,
            forwards_user_token=forwards,
            headers={"Authorization": f"Bearer {token}"} if forwards else {},
            token_expires_at=expires_at if forwards else None,
        )

    def _origin_allowed(self, url: str) -> bool:
        try:
            return origin_of(url) in self._allowed_origins
        except ValueError:
            return False


def _registered_server(registered: RegisteredMcpServer) -> ComposedMcpServer:
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
    )
