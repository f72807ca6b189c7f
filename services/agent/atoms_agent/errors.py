"""Why the agent refused or failed a request: one class per documented `atoms.agent.v1.ErrorReason`.

Tree:
    AgentError (ServiceError, domain agent.atoms.internal)
      +-- InvalidRequestError            INVALID_ARGUMENT
      +-- McpServerNotFoundError         NOT_FOUND
      +-- McpServerNameTakenError        ALREADY_EXISTS
      +-- McpServerLimitError            RESOURCE_EXHAUSTED
      +-- McpServerForbiddenError        PERMISSION_DENIED
      +-- McpUnauthenticatedError        UNAUTHENTICATED   (the MCP server answered 401)
      +-- McpForbiddenError              PERMISSION_DENIED (the MCP server answered 403)
      +-- McpUnavailableError            UNAVAILABLE       (unreachable, 5xx, timeout)
      +-- McpProtocolError               INTERNAL          (not valid MCP)
      +-- McpLimitExceededError          RESOURCE_EXHAUSTED (answer past a bound: bytes, pages, tools, time)
      +-- ToolNotFoundError              NOT_FOUND
      +-- ModelNotConfiguredError        FAILED_PRECONDITION
      +-- ModelUnavailableError          UNAVAILABLE
"""

from __future__ import annotations

import grpc

from atoms_grpc.service_error import ServiceError

AGENT_ERROR_DOMAIN = "agent.atoms.internal"


class AgentError(ServiceError):
    """A request the agent cannot serve."""

    domain = AGENT_ERROR_DOMAIN


class InvalidRequestError(AgentError):
    """A request field is missing or out of bounds."""

    status_code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_REQUEST"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", metadata={"field": field})
        self.field = field


class McpServerNotFoundError(AgentError):
    """No MCP server of that name or id for this caller."""

    status_code = grpc.StatusCode.NOT_FOUND
    reason = "MCP_SERVER_NOT_FOUND"


class McpServerNameTakenError(AgentError):
    """The name is used by a system server or already in that scope."""

    status_code = grpc.StatusCode.ALREADY_EXISTS
    reason = "MCP_SERVER_NAME_TAKEN"


class McpServerLimitError(AgentError):
    """Too many registered servers."""

    status_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "MCP_SERVER_LIMIT"


class McpServerForbiddenError(AgentError):
    """The caller may not change this registration."""

    status_code = grpc.StatusCode.PERMISSION_DENIED
    reason = "MCP_SERVER_FORBIDDEN"


class McpUnauthenticatedError(AgentError):
    """The MCP server refused the credentials (HTTP 401)."""

    status_code = grpc.StatusCode.UNAUTHENTICATED
    reason = "MCP_UNAUTHENTICATED"


class McpForbiddenError(AgentError):
    """The MCP server refused the call (HTTP 403)."""

    status_code = grpc.StatusCode.PERMISSION_DENIED
    reason = "MCP_FORBIDDEN"


class McpUnavailableError(AgentError):
    """The MCP server could not be reached, timed out, or answered 5xx."""

    status_code = grpc.StatusCode.UNAVAILABLE
    reason = "MCP_UNAVAILABLE"


class McpProtocolError(AgentError):
    """The MCP server answered something that is not valid MCP."""

    status_code = grpc.StatusCode.INTERNAL
    reason = "MCP_PROTOCOL_ERROR"


class McpLimitExceededError(AgentError):
    """An MCP server's answer went past a bound the agent enforces; `limit` names the setting."""

    status_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "MCP_LIMIT_EXCEEDED"

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message, metadata={"limit": limit})
        self.limit = limit


class ToolNotFoundError(AgentError):
    """The MCP server has no tool of that name."""

    status_code = grpc.StatusCode.NOT_FOUND
    reason = "TOOL_NOT_FOUND"


class ModelNotConfiguredError(AgentError):
    """Chat needs ATOMS_LLM_BASE_URL and ATOMS_LLM_MODEL."""

    status_code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "MODEL_NOT_CONFIGURED"


class ModelUnavailableError(AgentError):
    """The model endpoint failed or could not be reached."""

    status_code = grpc.StatusCode.UNAVAILABLE
    reason = "MODEL_UNAVAILABLE"
