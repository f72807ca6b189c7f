"""agent_client: the Atoms agent from Python services and scripts, as the signed-in user.

- `FIRST_PARTY_MCPS`: the first-party MCP registry, from the agent's own `first_party_mcps.json`.
- `get_mcp_auth_headers(mcp_id, session)`: the user's `Authorization` header, first-party MCPs only.
- `AgentGrpcClient`: `atoms.agent.v1.AgentService` (compose, registry, tools, streaming chat).
- `AgentHttpClient`: the HTTP face (`POST /v1/chat/completions`, streaming and not; `GET /health`).
- `AgentError` and its subclasses: the agent's status code and ErrorInfo reason, on both faces.

The command line (`atoms chat`, `atoms call-tool`) is in `atoms_agent_client.cli`.

The names below load their module on first use (PEP 562): importing one module of the
package (its command line, say) does not load them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atoms_grpc.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from atoms_agent_client.agent_grpc_client import DEFAULT_AGENT_ADDR, AgentGrpcClient
    from atoms_agent_client.agent_http_client import DEFAULT_AGENT_HTTP_URL, AgentHttpClient
    from atoms_agent_client.chat_types import (
        AgentHealth,
        ChatCompletion,
        ChatCompletionChunk,
        ChatMessage,
        ToolResult,
    )
    from atoms_agent_client.errors import (
        AGENT_PROTOCOL_ERROR,
        AGENT_UNREACHABLE,
        AgentError,
        AgentPermissionDeniedError,
        AgentUnauthenticatedError,
        AgentUnavailableError,
    )
    from atoms_agent_client.first_party_registry import (
        FIRST_PARTY_MCPS,
        find_first_party_mcp,
        forwards_user_token,
    )
    from atoms_agent_client.mcp_auth_headers import (
        AccessTokenSession,
        InvalidAccessTokenError,
        Session,
        SessionSource,
        get_bearer_headers,
        get_mcp_auth_headers,
        static_session,
    )
    from atoms_grpc.first_party_mcps import FirstPartyMcp

# Each public name and the module that defines it.
_MODULE_OF = {
    "AGENT_PROTOCOL_ERROR": "atoms_agent_client.errors",
    "AGENT_UNREACHABLE": "atoms_agent_client.errors",
    "DEFAULT_AGENT_ADDR": "atoms_agent_client.agent_grpc_client",
    "DEFAULT_AGENT_HTTP_URL": "atoms_agent_client.agent_http_client",
    "FIRST_PARTY_MCPS": "atoms_agent_client.first_party_registry",
    "AccessTokenSession": "atoms_agent_client.mcp_auth_headers",
    "AgentError": "atoms_agent_client.errors",
    "AgentGrpcClient": "atoms_agent_client.agent_grpc_client",
    "AgentHealth": "atoms_agent_client.chat_types",
    "AgentHttpClient": "atoms_agent_client.agent_http_client",
    "AgentPermissionDeniedError": "atoms_agent_client.errors",
    "AgentUnauthenticatedError": "atoms_agent_client.errors",
    "AgentUnavailableError": "atoms_agent_client.errors",
    "ChatCompletion": "atoms_agent_client.chat_types",
    "ChatCompletionChunk": "atoms_agent_client.chat_types",
    "ChatMessage": "atoms_agent_client.chat_types",
    "FirstPartyMcp": "atoms_grpc.first_party_mcps",
    "InvalidAccessTokenError": "atoms_agent_client.mcp_auth_headers",
    "Session": "atoms_agent_client.mcp_auth_headers",
    "SessionSource": "atoms_agent_client.mcp_auth_headers",
    "ToolResult": "atoms_agent_client.chat_types",
    "find_first_party_mcp": "atoms_agent_client.first_party_registry",
    "forwards_user_token": "atoms_agent_client.first_party_registry",
    "get_bearer_headers": "atoms_agent_client.mcp_auth_headers",
    "get_mcp_auth_headers": "atoms_agent_client.mcp_auth_headers",
    "static_session": "atoms_agent_client.mcp_auth_headers",
}

__all__ = [
    "AGENT_PROTOCOL_ERROR",
    "AGENT_UNREACHABLE",
    "DEFAULT_AGENT_ADDR",
    "DEFAULT_AGENT_HTTP_URL",
    "FIRST_PARTY_MCPS",
    "AccessTokenSession",
    "AgentError",
    "AgentGrpcClient",
    "AgentHealth",
    "AgentHttpClient",
    "AgentPermissionDeniedError",
    "AgentUnauthenticatedError",
    "AgentUnavailableError",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatMessage",
    "FirstPartyMcp",
    "InvalidAccessTokenError",
    "Session",
    "SessionSource",
    "ToolResult",
    "find_first_party_mcp",
    "forwards_user_token",
    "get_bearer_headers",
    "get_mcp_auth_headers",
    "static_session",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULE_OF)
