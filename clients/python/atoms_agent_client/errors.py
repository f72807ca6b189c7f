"""Why a call to the agent failed: the same exceptions for its gRPC API and its HTTP face.

Tree:
    RemoteServiceError (the kit's: code, reason, domain, metadata)
      +-- AgentError                      any refusal or failure; `http_status` set on the HTTP face
            +-- AgentUnauthenticatedError UNAUTHENTICATED / 401 (MISSING_TOKEN, INVALID_SIGNATURE, ...)
            +-- AgentPermissionDeniedError PERMISSION_DENIED / 403
            +-- AgentUnavailableError     UNAVAILABLE, DEADLINE_EXCEEDED / 503, 504, or no answer at all
            +-- NotTheAgentError          something answered, but not the agent (UNIMPLEMENTED, a bare 404)

Being `RemoteServiceError`s, they pass through a kit service's StatusMappingInterceptor with
the agent's own code and reason. Messages are the agent's and never contain the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc

from atoms_grpc.service_error import RemoteServiceError

AGENT_UNREACHABLE = "AGENT_UNREACHABLE"
AGENT_PROTOCOL_ERROR = "AGENT_PROTOCOL_ERROR"
NOT_THE_AGENT = "NOT_THE_AGENT"

# The agent's HTTP face answers with these statuses (services/agent/atoms_agent/http_api.py `_HTTP_STATUS`).
_CODE_OF_HTTP_STATUS = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    502: grpc.StatusCode.UNAVAILABLE,  # a proxy in front of the agent could not reach it
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}
_HTTP_STATUS_OF_CODE = {
    **{code: status for status, code in _CODE_OF_HTTP_STATUS.items() if status != 502},
    grpc.StatusCode.FAILED_PRECONDITION: 400,
}


class AgentError(RemoteServiceError):
    """The agent refused or failed a call.

    Attributes:
        status_code: the gRPC status (on the HTTP face: the one named by the error's `type`).
        reason: the ErrorInfo reason (`INVALID_SIGNATURE`, `TOOL_NOT_FOUND`, ...), or
            `AGENT_UNREACHABLE` / `AGENT_PROTOCOL_ERROR` / the status name when the agent gave none.
        domain: `agent.atoms.internal`, `auth.atoms.internal`, or "" (the HTTP face sends none).
        http_status: the HTTP status on the HTTP face; None on gRPC.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: grpc.StatusCode,
        reason: str,
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, reason=reason, domain=domain, metadata=metadata)
        self.http_status = http_status

    def __str__(self) -> str:
        return f"{self.status_code.name} {self.reason}: {self.message}"


class AgentUnauthenticatedError(AgentError):
    """The token is missing, malformed, expired or not signed by a trusted issuer."""


class AgentPermissionDeniedError(AgentError):
    """The caller may not do this."""


class AgentUnavailableError(AgentError):
    """The agent (or something behind it) is unreachable, overloaded or out of time: retry later."""


class NotTheAgentError(AgentError):
    """The address answered, but not as the agent: another service, or not an Atoms service at all.

    gRPC: UNIMPLEMENTED without the agent's ErrorInfo (the agent implements every method of
    its API). HTTP: 404 or 405 without the agent's error body. Usually the client was
    pointed at the wrong port (the auth service's, the MCP service's).
    """


_CLASS_OF_CODE: dict[grpc.StatusCode, type[AgentError]] = {
    grpc.StatusCode.UNAUTHENTICATED: AgentUnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: AgentPermissionDeniedError,
    grpc.StatusCode.UNAVAILABLE: AgentUnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: AgentUnavailableError,
}


def agent_error(
    message: str,
    *,
    status_code: grpc.StatusCode,
    reason: str,
    domain: str = "",
    metadata: Mapping[str, str] | None = None,
    http_status: int | None = None,
) -> AgentError:
    """Return the AgentError subclass for `status_code`."""
    cls = _CLASS_OF_CODE.get(status_code, AgentError)
    return cls(
        message,
        status_code=status_code,
        reason=reason,
        domain=domain,
        metadata=metadata,
        http_status=http_status,
    )


def error_from_rpc_error(err: grpc.aio.AioRpcError) -> AgentError:
    """The AgentError for a failed gRPC call: code, message and the ErrorInfo's reason, domain, metadata.

    Without an ErrorInfo the reason is the status name, or AGENT_UNREACHABLE for UNAVAILABLE:
    the agent always sends one, so that status came from gRPC failing to reach it.
    """
    unreachable = err.code() is grpc.StatusCode.UNAVAILABLE
    remote = RemoteServiceError.from_rpc_error(
        err, default_reason=AGENT_UNREACHABLE if unreachable else err.code().name
    )
    if err.code() is grpc.StatusCode.UNIMPLEMENTED and not remote.domain:
        return NotTheAgentError(
            f"the server does not implement the agent's API ({remote.message})",
            status_code=remote.status_code,
            reason=NOT_THE_AGENT,
        )
    return agent_error(
        remote.message,
        status_code=remote.status_code,
        reason=remote.reason,
        domain=remote.domain,
        metadata=remote.metadata,
    )


def error_from_http_body(http_status: int | None, body: Any) -> AgentError:
    """The AgentError for an HTTP error answer (`{"error": {"message", "type", "code"}}` from the agent).

    Args:
        http_status: the answer's status; None for an error sent inside a stream (after the
            200), which then gets the status the agent gives that error before streaming.
        body: the parsed JSON body (anything: a proxy may answer with something else).
    """
    error = body.get("error") if isinstance(body, dict) else None
    fields = error if isinstance(error, dict) else {}
    status_code = _status_code_of(fields.get("type"), http_status or 0)
    if http_status is None:
        http_status = _HTTP_STATUS_OF_CODE.get(status_code, 500)
    message = fields.get("message")
    reason = fields.get("code")
    if http_status in (404, 405) and not fields:
        return NotTheAgentError(
            f"HTTP {http_status} without the agent's error body: this is not the agent's HTTP face",
            status_code=status_code,
            reason=NOT_THE_AGENT,
            http_status=http_status,
        )
    return agent_error(
        message if isinstance(message, str) and message else f"HTTP {http_status}",
        status_code=status_code,
        reason=reason if isinstance(reason, str) and reason else f"HTTP_{http_status}",
        http_status=http_status,
    )


def _status_code_of(error_type: object, http_status: int) -> grpc.StatusCode:
    # The agent's `type` is the gRPC status name in lower case; trust it over the HTTP status,
    # which folds several codes together (400 is both INVALID_ARGUMENT and FAILED_PRECONDITION).
    if isinstance(error_type, str) and error_type.upper() in grpc.StatusCode.__members__:
        return grpc.StatusCode[error_type.upper()]
    fallback = grpc.StatusCode.INTERNAL if http_status >= 500 else grpc.StatusCode.UNKNOWN
    return _CODE_OF_HTTP_STATUS.get(http_status, fallback)
