"""What of a registered server's URL a caller is shown.

A URL may carry a secret: `?api_key=…` in its query, or `user:pass@` in URLs stored before
registration refused them. Every member of an organization sees the organization's servers, so
only those who may manage organization servers, and the user who registered the server, see its
URL whole; other members see it without userinfo, query and fragment. A user's own servers are
visible to that user only and are shown whole.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from atoms_agent.mcp_registry import RegisteredMcpServer, ServerScope
from atoms_agent.registration_policy import may_manage_org_servers
from atoms_grpc.principal import Principal

REDACTED_QUERY = "<redacted>"


def may_see_full_url(principal: Principal, server: RegisteredMcpServer) -> bool:
    """True for the registering user, an organization server manager, and a user server's owner."""
    if server.scope is not ServerScope.ORGANIZATION:
        return True
    return server.created_by == principal.subject or may_manage_org_servers(principal)


def redacted_url(url: str) -> str:
    """`url` without userinfo and fragment, its query (if any) replaced by a placeholder."""
    parts = urlsplit(url)
    host_and_port = parts.netloc.rpartition("@")[2]
    query = REDACTED_QUERY if parts.query else ""
    return urlunsplit((parts.scheme, host_and_port, parts.path, query, ""))
