"""ServiceError: the one exception type that becomes a gRPC status with ErrorInfo.

Domain code raises subclasses; `StatusMappingInterceptor` is the single place that turns
them into `grpc-status-details-bin` (AIP-193). Nothing else calls `context.abort`.

Tree:
    ServiceError
      +-- RemoteServiceError   a status received from another service, passed on as is
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status


class ServiceError(Exception):
    """A failure with a canonical gRPC code and a stable, documented reason.

    Subclasses set the class attributes; `message` must be short, actionable and must
    not contain secrets (tokens, keys) or internals.
    """

    status_code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    reason: str = "INTERNAL"
    domain: str = "atoms.internal"

    def __init__(self, message: str, *, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata: dict[str, str] = dict(metadata or {})

    def to_status_proto(self) -> status_pb2.Status:
        """Return the `google.rpc.Status` with one ErrorInfo detail."""
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.ErrorInfo(reason=self.reason, domain=self.domain, metadata=self.metadata)
        )
        return status_pb2.Status(code=self.status_code.value[0], message=self.message, details=[detail])

    def to_grpc_status(self) -> grpc.Status:
        """Return the status ready for `context.abort` (details in trailing metadata)."""
        return rpc_status.to_status(self.to_status_proto())


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
    ) -> None:
        super().__init__(message, metadata=metadata)
        self.status_code = status_code
        self.reason = reason
        self.domain = domain

    @classmethod
    def from_rpc_error(cls, err: grpc.aio.AioRpcError, *, default_reason: str) -> RemoteServiceError:
        """Read code, message and the first ErrorInfo from a failed call."""
        reason, domain, metadata = default_reason, "", {}
        status = rpc_status.from_call(err)  # type: ignore[arg-type]
        if status is not None:
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
                    break
        return cls(
            err.details() or err.code().name.lower(),
            status_code=err.code(),
            reason=reason,
            domain=domain,
            metadata=metadata,
        )
