"""Errors the kit raises when it authenticates a caller through the auth service.

Reasons come from `atoms.auth.v1.ErrorReason`; refusals the auth service itself returned
arrive as `RemoteServiceError` with the auth service's own code, reason and domain.
"""

from __future__ import annotations

import grpc

from atoms_grpc.service_error import ServiceError

AUTH_ERROR_DOMAIN = "auth.atoms.internal"


class CallerAuthError(ServiceError):
    """The caller's credentials are missing or unusable before the auth service is asked."""

    status_code = grpc.StatusCode.UNAUTHENTICATED
    reason = "MISSING_TOKEN"
    domain = AUTH_ERROR_DOMAIN


class MissingCredentialsError(CallerAuthError):
    """No `authorization` metadata was sent."""

    reason = "MISSING_TOKEN"


class MalformedCredentialsError(CallerAuthError):
    """The `authorization` metadata is not a single bearer token."""

    reason = "MALFORMED_TOKEN"


class AuthServiceUnavailableError(ServiceError):
    """The auth service could not be reached in time: retry later, do not log the user out.

    Carries a retry hint (`retry_delay_s`: RetryInfo on gRPC, Retry-After on HTTP); the
    AuthClient sets it from its policy.
    """

    status_code = grpc.StatusCode.UNAVAILABLE
    reason = "AUTH_SERVICE_UNAVAILABLE"
    domain = AUTH_ERROR_DOMAIN
    retry_delay_s: float | None = 5.0
