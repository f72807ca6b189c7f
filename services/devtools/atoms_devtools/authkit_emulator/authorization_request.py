"""Checking an authorize request, in the WorkOS form and the OAuth 2.1 form.

The order follows RFC 6749 4.1.2.1: the client and its redirect URI are checked first, and a
problem with either is an `UntrustedRedirectError` (shown on a page, never redirected: that is
what keeps the emulator from being an open redirector). Anything else wrong is an ordinary
`OAuthError`, which the caller sends back to the now-trusted redirect URI with the `state`.

- WorkOS (`GET /user_management/authorize`, what `getAuthorizationUrl` builds): the client is
  the application; PKCE is optional (authkit-nextjs sends it), S256 only.
- OAuth (`GET /oauth2/authorize`, what MCP clients build): any known client; PKCE S256 and an
  RFC 8707 `resource` are required, so every token an MCP client gets names its audience.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from atoms_devtools.authkit_emulator.client_registry import ClientRegistry, OAuthClient
from atoms_devtools.authkit_emulator.oauth_errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidTargetError,
    OAuthError,
    UnsupportedResponseTypeError,
    UntrustedRedirectError,
)
from atoms_devtools.authkit_emulator.redirect_uris import MAX_URI_LENGTH
from atoms_devtools.authkit_emulator.sign_in_state import AuthorizationRequest, Flow

# RFC 7636 4.2: BASE64URL(SHA256(verifier)) is 43 characters; verifiers are 43 to 128.
_CODE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_SCOPE = 1000


def check_workos_authorize(fields: Mapping[str, str], clients: ClientRegistry) -> AuthorizationRequest:
    """Check a `GET /user_management/authorize` request.

    Raises:
        UntrustedRedirectError: the client is not the application, or the redirect URI is not its.
        OAuthError: another parameter is wrong (to be sent to the redirect URI).
    """
    client = _trusted_client(fields, clients, flow="workos")
    redirect_uri = _trusted_redirect_uri(fields, client)
    _check_response_type(fields)
    challenge = _code_challenge(fields, required=False)
    return AuthorizationRequest(
        flow="workos",
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        state=fields.get("state"),
        code_challenge=challenge,
        organization_id=fields.get("organization_id") or None,
        login_hint=fields.get("login_hint") or None,
    )


def check_oauth_authorize(fields: Mapping[str, str], clients: ClientRegistry) -> AuthorizationRequest:
    """Check a `GET /oauth2/authorize` request.

    Raises:
        UntrustedRedirectError: the client is unknown, or the redirect URI is not registered.
        OAuthError: another parameter is wrong (to be sent to the redirect URI).
    """
    client = _trusted_client(fields, clients, flow="oauth")
    redirect_uri = _trusted_redirect_uri(fields, client)
    _check_response_type(fields)
    challenge = _code_challenge(fields, required=True)
    scope = fields.get("scope") or None
    if scope is not None and (len(scope) > _MAX_SCOPE or not scope.isprintable()):
        raise InvalidRequestError(f"scope must be printable and at most {_MAX_SCOPE} characters")
    return AuthorizationRequest(
        flow="oauth",
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        state=fields.get("state"),
        code_challenge=challenge,
        resource=check_resource(fields.get("resource"), required=True),
        scope=scope,
        login_hint=fields.get("login_hint") or None,
    )


def check_resource(value: str | None, *, required: bool) -> str | None:
    """Return an RFC 8707 resource indicator: an absolute http(s) URI without a fragment.

    Raises:
        InvalidTargetError: it is missing while required, or malformed.
    """
    if not value:
        if required:
            raise InvalidTargetError(
                "resource is required (RFC 8707): the URL of the MCP server the token is for"
            )
        return None
    parts = urlsplit(value)
    if len(value) > MAX_URI_LENGTH or parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidTargetError("resource must be an absolute http(s) URL")
    if "#" in value:
        raise InvalidTargetError("resource must not have a fragment")
    return value


def _trusted_client(fields: Mapping[str, str], clients: ClientRegistry, *, flow: Flow) -> OAuthClient:
    client_id = fields.get("client_id")
    if not client_id:
        raise UntrustedRedirectError(InvalidRequestError("client_id is required"))
    try:
        client = clients.get(client_id)
    except OAuthError as err:
        raise UntrustedRedirectError(err) from err
    if flow == "workos" and client is not clients.application:
        raise UntrustedRedirectError(
            InvalidClientError("client_id is not the WorkOS application this emulator serves")
        )
    return client


def _trusted_redirect_uri(fields: Mapping[str, str], client: OAuthClient) -> str:
    redirect_uri = fields.get("redirect_uri")
    if not redirect_uri:
        raise UntrustedRedirectError(InvalidRequestError("redirect_uri is required"))
    if not client.allows_redirect(redirect_uri):
        raise UntrustedRedirectError(
            InvalidRequestError("redirect_uri is not one of the client's registered redirect URIs")
        )
    return redirect_uri


def _check_response_type(fields: Mapping[str, str]) -> None:
    if fields.get("response_type") != "code":
        raise UnsupportedResponseTypeError("response_type must be code")


def _code_challenge(fields: Mapping[str, str], *, required: bool) -> str | None:
    challenge = fields.get("code_challenge")
    if not challenge:
        if required:
            raise InvalidRequestError("code_challenge is required: PKCE with S256")
        return None
    if fields.get("code_challenge_method") != "S256":
        raise InvalidRequestError("code_challenge_method must be S256 (plain is not supported)")
    if not _CODE_CHALLENGE.fullmatch(challenge):
        raise InvalidRequestError("code_challenge must be 43 base64url characters (S256)")
    return challenge
