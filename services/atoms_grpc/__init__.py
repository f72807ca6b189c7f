"""atoms_grpc: the kit every Atoms gRPC service imports to authenticate callers and run a server.

Typical server: a `GrpcServiceHost` with the interceptor chain
`RequestIdInterceptor -> AccessLogInterceptor -> StatusMappingInterceptor -> BearerAuthInterceptor`,
handlers reading `current_principal()`, domain errors raised as `ServiceError` subclasses,
and a `serve()` entry point that hands the server to `run_until_signalled`.
"""

from services.atoms_grpc.access_log_interceptor import AccessLogInterceptor
from services.atoms_grpc.auth_client import AuthClient, AuthClientPolicy
from services.atoms_grpc.auth_errors import (
    AuthServiceUnavailableError,
    MalformedCredentialsError,
    MissingCredentialsError,
)
from services.atoms_grpc.auth_interceptor import BearerAuthInterceptor, forwarded_metadata
from services.atoms_grpc.grpc_service_host import GrpcServiceHost
from services.atoms_grpc.log_format import JsonLogFormatter, configure_logging
from services.atoms_grpc.principal import Principal, PrincipalKind
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

__all__ = [
    "AccessLogInterceptor",
    "AuthClient",
    "AuthClientPolicy",
    "AuthServiceUnavailableError",
    "BearerAuthInterceptor",
    "GrpcServiceHost",
    "JsonLogFormatter",
    "MalformedCredentialsError",
    "MetricsEndpoint",
    "MissingCredentialsError",
    "NoPrincipalError",
    "Principal",
    "PrincipalKind",
    "RemoteServiceError",
    "RequestIdInterceptor",
    "RunnableService",
    "SelfEndingService",
    "ServiceError",
    "StatusMappingInterceptor",
    "configure_logging",
    "current_bearer_token",
    "current_principal",
    "current_request_id",
    "fingerprint_token",
    "forwarded_metadata",
    "run_until_signalled",
    "strip_bearer",
]
