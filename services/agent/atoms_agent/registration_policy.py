"""What a caller may register: validation of RegisterMcpServer, before anything is stored."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from atoms.agent.v1 import agent_pb2
from atoms_agent.errors import InvalidRequestError, McpServerForbiddenError
from atoms_agent.mcp_registry import AuthType, NewMcpServer, ServerScope
from atoms_grpc.loopback import is_loopback_host
from atoms_grpc.principal import Principal

MAX_URL_BYTES = 2048
MAX_BEARER_TOKEN_BYTES = 4096
ORG_MANAGER_PERMISSION = "mcp_servers:manage"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # fullmatch: `$` would let "name\n" through
_SCOPES = {
    agent_pb2.MCP_SERVER_SCOPE_ORGANIZATION: ServerScope.ORGANIZATION,
    agent_pb2.MCP_SERVER_SCOPE_USER: ServerScope.USER,
}
_AUTH_TYPES = {
    agent_pb2.MCP_AUTH_TYPE_UNSPECIFIED: AuthType.NONE,
    agent_pb2.MCP_AUTH_TYPE_NONE: AuthType.NONE,
    agent_pb2.MCP_AUTH_TYPE_BEARER: AuthType.BEARER,
}


def may_manage_org_servers(principal: Principal) -> bool:
    """Organization servers are managed by admins or holders of `mcp_servers:manage`."""
    return bool(principal.org_id) and (
        principal.role == "admin"
        or "admin" in principal.roles
        or ORG_MANAGER_PERMISSION in principal.permissions
    )


def validate_registration(
    request: agent_pb2.RegisterMcpServerRequest,
    principal: Principal,
    *,
    system_names: frozenset[str],
    allow_loopback_http: bool,
) -> NewMcpServer:
    """Return the registration to store, or raise the error that names the bad field.

    Raises:
        InvalidRequestError: a field is missing or out of bounds.
        McpServerForbiddenError: the caller may not register in that scope.
    """
    if principal.is_internal:
        raise McpServerForbiddenError("internal services cannot register MCP servers")
    scope = _scope(request, principal)
    _check_name(request.name, system_names)
    _check_url(request.url, allow_loopback_http=allow_loopback_http)
    if request.transport not in (
        agent_pb2.MCP_TRANSPORT_UNSPECIFIED,
        agent_pb2.MCP_TRANSPORT_STREAMABLE_HTTP,
    ):
        raise InvalidRequestError("transport", "only STREAMABLE_HTTP is supported")
    auth_type = _auth_type(request)
    return NewMcpServer(
        name=request.name,
        url=request.url,
        scope=scope,
        auth_type=auth_type,
        bearer_token=request.bearer_token,
    )


def _scope(request: agent_pb2.RegisterMcpServerRequest, principal: Principal) -> ServerScope:
    scope = _SCOPES.get(request.scope)
    if scope is None:
        raise InvalidRequestError("scope", "must be ORGANIZATION or USER")
    if scope is ServerScope.ORGANIZATION and not may_manage_org_servers(principal):
        raise McpServerForbiddenError(
            "registering organization servers needs the admin role "
            f"or the {ORG_MANAGER_PERMISSION} permission"
        )
    return scope


def _check_name(name: str, system_names: frozenset[str]) -> None:
    if not _NAME.fullmatch(name):
        raise InvalidRequestError(
            "name", "must be 1 to 64 characters of a-z, 0-9, _ and -, starting alphanumeric"
        )
    if name in system_names:
        raise InvalidRequestError("name", f"{name!r} is the name of a system server")


def _check_url(url: str, *, allow_loopback_http: bool) -> None:
    if not url or len(url.encode()) > MAX_URL_BYTES:
        raise InvalidRequestError("url", f"must be 1 to {MAX_URL_BYTES} bytes")
    if any(char.isspace() or not char.isprintable() for char in url):
        # urlsplit drops tabs and newlines silently: what is checked must be what is stored.
        raise InvalidRequestError("url", "must not contain spaces or control characters")
    parts = urlsplit(url)
    if parts.username or parts.password or "@" in parts.netloc:
        raise InvalidRequestError("url", "must not carry credentials; use auth_type BEARER")
    if parts.fragment or not parts.hostname:
        raise InvalidRequestError("url", "must be an absolute URL with a host and no fragment")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as err:
        raise InvalidRequestError("url", "has a port that is not a number from 0 to 65535") from err
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and allow_loopback_http and is_loopback_host(parts.hostname):
        return
    raise InvalidRequestError(
        "url", "must be https" + (" (http is allowed on loopback only)" if allow_loopback_http else "")
    )


def _auth_type(request: agent_pb2.RegisterMcpServerRequest) -> AuthType:
    if request.auth_type == agent_pb2.MCP_AUTH_TYPE_INTERNAL:
        raise InvalidRequestError("auth_type", "INTERNAL is reserved for first-party system servers")
    auth_type = _AUTH_TYPES.get(request.auth_type)
    if auth_type is None:
        raise InvalidRequestError("auth_type", "must be NONE or BEARER")
    token_size = len(request.bearer_token.encode())
    if auth_type is AuthType.BEARER and not 0 < token_size <= MAX_BEARER_TOKEN_BYTES:
        raise InvalidRequestError(
            "bearer_token", f"BEARER needs a credential of 1 to {MAX_BEARER_TOKEN_BYTES} bytes"
        )
    if auth_type is AuthType.NONE and token_size:
        raise InvalidRequestError("bearer_token", "is only accepted with auth_type BEARER")
    return auth_type
