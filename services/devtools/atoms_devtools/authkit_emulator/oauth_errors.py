"""The OAuth and WorkOS errors the emulator answers with, as typed exceptions.

    OAuthError                         error code, HTTP status, safe description
    ├── InvalidRequestError            invalid_request (400); RequestTooLargeError is 413
    ├── InvalidClientError             invalid_client (401): unknown client or wrong secret
    ├── InvalidGrantError              invalid_grant (400): code or refresh token unusable
    ├── UnauthorizedClientError        unauthorized_client (400)
    ├── UnsupportedGrantTypeError      unsupported_grant_type (400)
    ├── UnsupportedResponseTypeError   unsupported_response_type (400)
    ├── InvalidTargetError             invalid_target (400, RFC 8707)
    ├── AccessDeniedError              access_denied (the person cancelled at the login page)
    ├── InvalidRedirectUriError        invalid_redirect_uri (400, RFC 7591)
    └── InvalidClientMetadataError     invalid_client_metadata (400, RFC 7591)

`UntrustedRedirectError` marks the errors of an authorization request that must never be sent
to its `redirect_uri` (RFC 6749 4.1.2.1): the client or the redirect URI itself is the problem,
so the login page shows the error instead of redirecting anywhere.

Descriptions are written for the developer reading them and never echo a code, a token or
a secret back.
"""

from __future__ import annotations

from typing import ClassVar


class OAuthError(Exception):
    """An error answered as `{"error": ..., "error_description": ...}`."""

    error: ClassVar[str] = "server_error"
    status_code: ClassVar[int] = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    def body(self) -> dict[str, str]:
        """The JSON body of the error response (RFC 6749 5.2, and WorkOS's `error` shape)."""
        return {"error": self.error, "error_description": self.description}


class InvalidRequestError(OAuthError):
    """A parameter is missing, repeated, malformed or too long."""

    error = "invalid_request"


class RequestTooLargeError(InvalidRequestError):
    """The request body is larger than the emulator accepts."""

    status_code = 413


class InvalidClientError(OAuthError):
    """The client is unknown, or its authentication (the secret) is wrong."""

    error = "invalid_client"
    status_code = 401


class InvalidGrantError(OAuthError):
    """The code or refresh token is unknown, expired, used, revoked or bound to something else."""

    error = "invalid_grant"


class UnauthorizedClientError(OAuthError):
    """The client may not use this grant or flow."""

    error = "unauthorized_client"


class UnsupportedGrantTypeError(OAuthError):
    """The grant type is neither authorization_code nor refresh_token."""

    error = "unsupported_grant_type"


class UnsupportedResponseTypeError(OAuthError):
    """The response type is not `code`."""

    error = "unsupported_response_type"


class InvalidTargetError(OAuthError):
    """The `resource` (RFC 8707) is missing, malformed, or not the one the grant was made for."""

    error = "invalid_target"


class AccessDeniedError(OAuthError):
    """The person cancelled at the login page."""

    error = "access_denied"


class InvalidRedirectUriError(OAuthError):
    """A registration's redirect URI is not acceptable (RFC 7591 3.2.2)."""

    error = "invalid_redirect_uri"


class InvalidClientMetadataError(OAuthError):
    """A registration's metadata is not acceptable (RFC 7591 3.2.2)."""

    error = "invalid_client_metadata"


class UntrustedRedirectError(OAuthError):
    """An authorization request whose client or redirect URI is wrong: shown, never redirected."""

    def __init__(self, error: OAuthError) -> None:
        super().__init__(error.description)
        self.cause = error

    def body(self) -> dict[str, str]:
        """The underlying error's body."""
        return self.cause.body()
