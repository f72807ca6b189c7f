"""agent_client: the Atoms agent from Python services and scripts, as the signed-in user.

- `FIRST_PARTY_MCPS`: the first-party MCP registry, from the agent's own `first_party_mcps.json`.
- `get_mcp_auth_headers(mcp_id, session)`: the user's `Authorization` header, first-party MCPs only.
- `AgentGrpcClient`: `atoms.agent.v1.AgentService` (compose, registry, tools, streaming chat).
- `AgentHttpClient`: the HTTP face (`POST /v1/chat/completions`, streaming and not; `GET /health`).
- `AgentError` and its subclasses: the agent's status code and ErrorInfo reason, on both faces.

The command line (`atoms chat`, `atoms call-tool`) is in `services.agent_client.cli`.
"""

from services.agent.first_party_mcps import FirstPartyMcp
from services.agent_client.agent_grpc_client import DEFAULT_AGENT_ADDR, AgentGrpcClient
from services.agent_client.agent_http_client import DEFAULT_AGENT_HTTP_URL, AgentHttpClient
from services.agent_client.chat_types import (
    AgentHealth,
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    ToolResult,
)
from services.agent_client.errors import (
    AGENT_PROTOCOL_ERROR,
    AGENT_UNREACHABLE,
    AgentError,
    AgentPermissionDeniedError,
    AgentUnauthenticatedError,
    AgentUnavailableError,
)
from services.agent_client.first_party_registry import (
    FIRST_PARTY_MCPS,
    find_first_party_mcp,
    forwards_user_token,
)
from services.agent_client.mcp_auth_headers import (
    AccessTokenSession,
    InvalidAccessTokenError,
    Session,
    SessionSource,
    get_bearer_headers,
    get_mcp_auth_headers,
    static_session,
)

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
