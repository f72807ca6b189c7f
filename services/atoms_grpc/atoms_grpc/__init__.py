"""atoms_grpc: the kit every Atoms gRPC service imports to authenticate callers and run a server.

Typical service: a `GrpcService` subclass whose `build()` returns its servicers as
`ServicerBinding`s; the kit adds the interceptor chain (`standard_interceptors()`:
`RequestIdInterceptor -> AccessLogInterceptor -> StatusMappingInterceptor -> BearerAuthInterceptor`),
health, reflection, metrics and graceful shutdown, and `run_grpc_service()` runs it as a
program. Its `GrpcServiceConfig` must state the audience the service accepts; an
`AuthServiceMonitor` keeps its readiness NOT_SERVING while the auth service is unreachable.
Handlers read `current_principal()`, raise `ServiceError` subclasses, and call
other first-party services on the caller's behalf through `first_party_channel()`.

The names below load their module on first use (PEP 562), so a program that needs one
module of the kit (the `atoms` command line, a settings check) does not pay for all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atoms_grpc.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from atoms_grpc.access_log_interceptor import AccessLogInterceptor
    from atoms_grpc.auth_client import AuthClient, AuthClientPolicy, AuthServiceHealth
    from atoms_grpc.auth_errors import (
        AuthServiceUnavailableError,
        MalformedCredentialsError,
        MissingCredentialsError,
    )
    from atoms_grpc.auth_interceptor import BearerAuthInterceptor, forwarded_metadata
    from atoms_grpc.auth_service_monitor import AuthHealthPolicy, AuthServiceMonitor
    from atoms_grpc.grpc_service import (
        GrpcService,
        GrpcServiceConfig,
        ServicerBinding,
        build_service_host,
        run_grpc_service,
        serve_grpc_service,
        standard_interceptors,
    )
    from atoms_grpc.grpc_service_host import GrpcServiceHost
    from atoms_grpc.listen_sockets import FACE_GRPC, FACE_HTTP, FACE_METRICS, ListenError
    from atoms_grpc.log_format import JsonLogFormatter, configure_logging
    from atoms_grpc.principal import Principal, PrincipalKind
    from atoms_grpc.readiness import Readiness
    from atoms_grpc.request_context import (
        NoPrincipalError,
        current_bearer_token,
        current_principal,
        current_request_id,
    )
    from atoms_grpc.request_id_interceptor import RequestIdInterceptor
    from atoms_grpc.service_error import RemoteServiceError, ServiceError
    from atoms_grpc.service_metrics import MetricsEndpoint
    from atoms_grpc.service_runner import RunnableService, SelfEndingService, run_until_signalled
    from atoms_grpc.status_mapping import StatusMappingInterceptor
    from atoms_grpc.token_fingerprint import fingerprint_token, strip_bearer
    from atoms_grpc.token_forwarding import (
        ForwardCallerTokenInterceptor,
        first_party_channel,
        forward_caller_token_interceptors,
    )

# Each public name and the module of the kit that defines it.
_MODULE_OF = {
    "FACE_GRPC": "atoms_grpc.listen_sockets",
    "FACE_HTTP": "atoms_grpc.listen_sockets",
    "FACE_METRICS": "atoms_grpc.listen_sockets",
    "AccessLogInterceptor": "atoms_grpc.access_log_interceptor",
    "AuthClient": "atoms_grpc.auth_client",
    "AuthClientPolicy": "atoms_grpc.auth_client",
    "AuthHealthPolicy": "atoms_grpc.auth_service_monitor",
    "AuthServiceHealth": "atoms_grpc.auth_client",
    "AuthServiceMonitor": "atoms_grpc.auth_service_monitor",
    "AuthServiceUnavailableError": "atoms_grpc.auth_errors",
    "BearerAuthInterceptor": "atoms_grpc.auth_interceptor",
    "ForwardCallerTokenInterceptor": "atoms_grpc.token_forwarding",
    "GrpcService": "atoms_grpc.grpc_service",
    "GrpcServiceConfig": "atoms_grpc.grpc_service",
    "GrpcServiceHost": "atoms_grpc.grpc_service_host",
    "JsonLogFormatter": "atoms_grpc.log_format",
    "ListenError": "atoms_grpc.listen_sockets",
    "MalformedCredentialsError": "atoms_grpc.auth_errors",
    "MetricsEndpoint": "atoms_grpc.service_metrics",
    "MissingCredentialsError": "atoms_grpc.auth_errors",
    "NoPrincipalError": "atoms_grpc.request_context",
    "Principal": "atoms_grpc.principal",
    "PrincipalKind": "atoms_grpc.principal",
    "Readiness": "atoms_grpc.readiness",
    "RemoteServiceError": "atoms_grpc.service_error",
    "RequestIdInterceptor": "atoms_grpc.request_id_interceptor",
    "RunnableService": "atoms_grpc.service_runner",
    "SelfEndingService": "atoms_grpc.service_runner",
    "ServiceError": "atoms_grpc.service_error",
    "ServicerBinding": "atoms_grpc.grpc_service",
    "StatusMappingInterceptor": "atoms_grpc.status_mapping",
    "build_service_host": "atoms_grpc.grpc_service",
    "configure_logging": "atoms_grpc.log_format",
    "current_bearer_token": "atoms_grpc.request_context",
    "current_principal": "atoms_grpc.request_context",
    "current_request_id": "atoms_grpc.request_context",
    "fingerprint_token": "atoms_grpc.token_fingerprint",
    "first_party_channel": "atoms_grpc.token_forwarding",
    "forward_caller_token_interceptors": "atoms_grpc.token_forwarding",
    "forwarded_metadata": "atoms_grpc.auth_interceptor",
    "run_grpc_service": "atoms_grpc.grpc_service",
    "run_until_signalled": "atoms_grpc.service_runner",
    "serve_grpc_service": "atoms_grpc.grpc_service",
    "standard_interceptors": "atoms_grpc.grpc_service",
    "strip_bearer": "atoms_grpc.token_fingerprint",
}

__all__ = [
    "FACE_GRPC",
    "FACE_HTTP",
    "FACE_METRICS",
    "AccessLogInterceptor",
    "AuthClient",
    "AuthClientPolicy",
    "AuthHealthPolicy",
    "AuthServiceHealth",
    "AuthServiceMonitor",
    "AuthServiceUnavailableError",
    "BearerAuthInterceptor",
    "ForwardCallerTokenInterceptor",
    "GrpcService",
    "GrpcServiceConfig",
    "GrpcServiceHost",
    "JsonLogFormatter",
    "ListenError",
    "MalformedCredentialsError",
    "MetricsEndpoint",
    "MissingCredentialsError",
    "NoPrincipalError",
    "Principal",
    "PrincipalKind",
    "Readiness",
    "RemoteServiceError",
    "RequestIdInterceptor",
    "RunnableService",
    "SelfEndingService",
    "ServiceError",
    "ServicerBinding",
    "StatusMappingInterceptor",
    "build_service_host",
    "configure_logging",
    "current_bearer_token",
    "current_principal",
    "current_request_id",
    "fingerprint_token",
    "first_party_channel",
    "forward_caller_token_interceptors",
    "forwarded_metadata",
    "run_grpc_service",
    "run_until_signalled",
    "serve_grpc_service",
    "standard_interceptors",
    "strip_bearer",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULE_OF)
