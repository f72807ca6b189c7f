"""atoms_grpc: the kit every Atoms gRPC service imports to authenticate callers and run a server.

Typical service: a `GrpcService` subclass whose `build()` returns its servicers as
`ServicerBinding`s; the kit adds the interceptor chain (`standard_interceptors()`:
`RequestIdInterceptor -> AccessLogInterceptor -> StatusMappingInterceptor -> BearerAuthInterceptor`),
health, reflection, metrics and graceful shutdown, and `run_grpc_service()` runs it as a
program. Its `GrpcServiceConfig` must state the audience the service accepts; an
`AuthServiceMonitor` keeps its readiness NOT_SERVING while the auth service is unreachable.
Handlers read `current_principal()`, raise `ServiceError` subclasses, and call
other first-party services on the caller's behalf through `first_party_channel()`.
"""

from services.atoms_grpc.access_log_interceptor import AccessLogInterceptor
from services.atoms_grpc.auth_client import AuthClient, AuthClientPolicy, AuthServiceHealth
from services.atoms_grpc.auth_errors import (
    AuthServiceUnavailableError,
    MalformedCredentialsError,
    MissingCredentialsError,
)
from services.atoms_grpc.auth_interceptor import BearerAuthInterceptor, forwarded_metadata
from services.atoms_grpc.auth_service_monitor import AuthHealthPolicy, AuthServiceMonitor
from services.atoms_grpc.grpc_service import (
    GrpcService,
    GrpcServiceConfig,
    ServicerBinding,
    build_service_host,
    run_grpc_service,
    serve_grpc_service,
    standard_interceptors,
)
from services.atoms_grpc.grpc_service_host import GrpcServiceHost
from services.atoms_grpc.listen_sockets import FACE_GRPC, FACE_HTTP, FACE_METRICS, ListenError
from services.atoms_grpc.log_format import JsonLogFormatter, configure_logging
from services.atoms_grpc.principal import Principal, PrincipalKind
from services.atoms_grpc.readiness import Readiness
from services.atoms_grpc.request_context import (
    NoPrincipalError,
    current_bearer_token,
    current_principal,
    current_request_id,
)
from services.atoms_grpc.request_id_interceptor import RequestIdInterceptor
from services.atoms_grpc.service_error import RemoteServiceError, ServiceError
from services.atoms_grpc.service_metrics import MetricsEndpoint
from services.atoms_grpc.service_runner import RunnableService, SelfEndingService, run_until_signalled
from services.atoms_grpc.status_mapping import StatusMappingInterceptor
from services.atoms_grpc.token_fingerprint import fingerprint_token, strip_bearer
from services.atoms_grpc.token_forwarding import (
    ForwardCallerTokenInterceptor,
    first_party_channel,
    forward_caller_token_interceptors,
)

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
