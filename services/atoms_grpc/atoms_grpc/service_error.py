"""ServiceError: the one exception type that becomes a gRPC status with ErrorInfo.

Domain code raises subclasses; `StatusMappingInterceptor` is the single place that turns
them into `grpc-status-details-bin` (AIP-193). Nothing else calls `context.abort`. An error
that is worth retrying later (an unreachable dependency) also carries `google.rpc.RetryInfo`.

Tree:
    ServiceError
      +-- RemoteServiceError   a status received from another service, passed on as is
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status


class ServiceError(Exception):
    """A failure with a canonical gRPC code and a stable, documented reason.

    Subclasses set the class attributes; `message` must be short, actionable and must
    not contain secrets (tokens, keys) or internals. `retry_delay_s`, when set, tells the
    caller how long to wait before trying again (a `google.rpc.RetryInfo` detail).
    """

    status_code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    reason: str = "INTERNAL"
    domain: str = "atoms.internal"
    retry_delay_s: float | None = None

    def __init__(
        self,
        message: str,
        *,
        metadata: Mapping[str, str] | None = None,
        retry_delay_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.metadata: dict[str, str] = dict(metadata or {})
        if retry_delay_s is not None:
            self.retry_delay_s = retry_delay_s

    def to_status_proto(self) -> status_pb2.Status:
        """Return the `google.rpc.Status` with one ErrorInfo detail (and RetryInfo when retryable)."""
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason=self.reason, domain=self.domain, metadata=self.metadata))
        details = [info]
        if self.retry_delay_s is not None:
            retry = any_pb2.Any()
            delay = duration_pb2.Duration()
            delay.FromMilliseconds(max(0, round(self.retry_delay_s * 1000)))
            retry.Pack(error_details_pb2.RetryInfo(retry_delay=delay))
            details.append(retry)
        return status_pb2.Status(code=self.status_code.value[0], message=self.message, details=details)

    def to_grpc_status(self) -> grpc.Status:
        """Return the status ready for `context.abort` (details in trailing metadata)."""
        status: grpc.Status = rpc_status.to_status(self.to_status_proto())
        return status


class RemoteServiceError(ServiceError):
    """A status another service returned, kept with its own code, reason and domain."""

    def __init__(
        self,
        message: str,
        *,
        status_code: grpc.StatusCode,
        reason: str,
        domain: str,
        metadata: Mapping[str, str] | None = None,
        retry_delay_s: float | None = None,
    ) -> None:
        super().__init__(message, metadata=metadata, retry_delay_s=retry_delay_s)
        self.status_code = status_code
        self.reason = reason
        self.domain = domain

    @classmethod
    def from_rpc_error(cls, err: grpc.aio.AioRpcError, *, default_reason: str) -> RemoteServiceError:
        """Read code, message, the first ErrorInfo and the RetryInfo (if any) from a failed call."""
        info, retry_delay_s = _details_of(rpc_status.from_call(err))
        return cls(
            err.details() or err.code().name.lower(),
            status_code=err.code(),
            reason=info.reason if info is not None else default_reason,
            domain=info.domain if info is not None else "",
            metadata=dict(info.metadata) if info is not None else {},
            retry_delay_s=retry_delay_s,
        )


def _details_of(status: status_pb2.Status | None) -> tuple[error_details_pb2.ErrorInfo | None, float | None]:
    """The first ErrorInfo and the first RetryInfo delay (seconds) of a rich status."""
    info: error_details_pb2.ErrorInfo | None = None
    retry_delay_s: float | None = None
    for detail in status.details if status is not None else ():
        if info is None and detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
        elif retry_delay_s is None and detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_delay_s = retry.retry_delay.ToMilliseconds() / 1000
    return info, retry_delay_s
