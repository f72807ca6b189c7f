"""The clients the emulator signs people in for: the WorkOS application and registered MCP clients.

- The application (`WORKOS_CLIENT_ID` + `WORKOS_API_KEY` on the SDK side) is configured when
  the emulator starts: its client id, its API key (the client secret of
  `/user_management/authenticate`) and its redirect URIs.
- MCP clients register themselves (RFC 7591, `POST /oauth2/register`). They are public
  clients: no secret, PKCE S256 on every authorization. They live in memory, at most
  `max_registered` of them (the oldest is forgotten first), and are gone when the emulator stops.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from atoms_devtools.authkit_emulator.emulator_defaults import (
    DEFAULT_REDIRECT_URIS,
)
from atoms_devtools.authkit_emulator.oauth_errors import (
    InvalidClientError,
    InvalidClientMetadataError,
    InvalidRedirectUriError,
)
from atoms_devtools.authkit_emulator.redirect_uris import check_redirect_uri, redirect_uri_matches
from atoms_devtools.authkit_emulator.token_minting import new_ulid

logger = logging.getLogger(__name__)

DEFAULT_MAX_REGISTERED_CLIENTS = 1000
MAX_REDIRECT_URIS = 10
_MAX_CLIENT_NAME = 200
_GRANT_TYPES = ("authorization_code", "refresh_token")


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """A client: the application (with a secret) or a registered public client (without)."""

    client_id: str
    redirect_uris: tuple[str, ...]
    name: str = ""
    secret: str | None = field(default=None, repr=False)
    created_at: float = 0.0
    grant_types: tuple[str, ...] = _GRANT_TYPES

    @property
    def is_public(self) -> bool:
        """True for a registered client: it has no secret and must use PKCE."""
        return self.secret is None

    def allows_redirect(self, uri: str) -> bool:
        """Whether `uri` matches one of the client's redirect URIs (see `redirect_uris`)."""
        return any(redirect_uri_matches(registered, uri) for registered in self.redirect_uris)

    def secret_matches(self, given: str) -> bool:
        """Compare `given` with the client's secret in constant time; False for a public client."""
        if self.secret is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), self.secret.encode("utf-8"))

    def registration_response(self) -> dict[str, Any]:
        """The RFC 7591 client information response for a registered client."""
        return {
            "client_id": self.client_id,
            "client_id_issued_at": int(self.created_at),
            "client_name": self.name,
            "redirect_uris": list(self.redirect_uris),
            "grant_types": list(self.grant_types),
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }


def application_client(
    *, client_id: str, api_key: str, redirect_uris: tuple[str, ...] = DEFAULT_REDIRECT_URIS
) -> OAuthClient:
    """Build the WorkOS application the emulator serves.

    Raises:
        ValueError: the client id or API key is empty, or a redirect URI is not acceptable.
    """
    if not client_id.strip() or not api_key.strip():
        raise ValueError("the application needs a client id and an API key")
    try:
        checked = tuple(check_redirect_uri(uri) for uri in redirect_uris)
    except InvalidRedirectUriError as err:
        raise ValueError(str(err)) from err
    return OAuthClient(client_id=client_id, redirect_uris=checked, name="WorkOS application", secret=api_key)


class ClientRegistry:
    """Looks clients up by id and registers new public clients."""

    def __init__(
        self,
        *,
        application: OAuthClient,
        max_registered: int = DEFAULT_MAX_REGISTERED_CLIENTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Args:
        application: the WorkOS application (it has a secret).
        max_registered: how many registered clients are remembered.
        clock: epoch seconds, for `client_id_issued_at`.
        """
        self.application = application
        self._max_registered = max_registered
        self._clock = clock
        self._registered: OrderedDict[str, OAuthClient] = OrderedDict()

    def get(self, client_id: str) -> OAuthClient:
        """Return the client with this id.

        Raises:
            InvalidClientError: no such client (never registered, or forgotten).
        """
        if client_id == self.application.client_id:
            return self.application
        client = self._registered.get(client_id)
        if client is None:
            raise InvalidClientError("unknown client_id: register the client first (POST /oauth2/register)")
        return client

    def register(self, metadata: object) -> OAuthClient:
        """Register a public client from an RFC 7591 request body.

        Unknown metadata is ignored (RFC 7591 2); a requested `token_endpoint_auth_method`
        other than `none` is replaced by `none`, which the response says (RFC 7591 3.2.1).

        Raises:
            InvalidRedirectUriError: a redirect URI is missing or not acceptable.
            InvalidClientMetadataError: other metadata is malformed or asks for what is not offered.
        """
        if not isinstance(metadata, dict):
            raise InvalidClientMetadataError("the registration must be a JSON object")
        _check_response_types(metadata.get("response_types"))
        now = self._clock()
        client = OAuthClient(
            client_id=f"client_{new_ulid(now)}",
            redirect_uris=_redirect_uris(metadata.get("redirect_uris")),
            name=_client_name(metadata.get("client_name")),
            created_at=now,
            grant_types=_grant_types(metadata.get("grant_types")),
        )
        self._registered[client.client_id] = client
        while len(self._registered) > self._max_registered:
            forgotten, _ = self._registered.popitem(last=False)
            logger.info("forgot client %s: over %d registered", forgotten, self._max_registered)
        logger.info("registered public client %s (%s)", client.client_id, client.name or "unnamed")
        return client


def _redirect_uris(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidRedirectUriError("redirect_uris must be a non-empty list of URIs")
    if len(value) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUriError(f"at most {MAX_REDIRECT_URIS} redirect URIs may be registered")
    if not all(isinstance(uri, str) for uri in value):
        raise InvalidRedirectUriError("every redirect URI must be a string")
    return tuple(check_redirect_uri(uri) for uri in value)


def _client_name(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > _MAX_CLIENT_NAME or not value.isprintable():
        raise InvalidClientMetadataError(
            f"client_name must be printable text of at most {_MAX_CLIENT_NAME} characters"
        )
    return value


def _grant_types(value: object) -> tuple[str, ...]:
    if value is None:
        return _GRANT_TYPES
    if not isinstance(value, list) or not all(isinstance(grant, str) for grant in value):
        raise InvalidClientMetadataError("grant_types must be a list of strings")
    unsupported = sorted(set(value) - set(_GRANT_TYPES))
    if unsupported or "authorization_code" not in value:
        raise InvalidClientMetadataError(
            f"grant_types must include authorization_code and may add refresh_token; "
            f"not offered: {', '.join(unsupported) or 'none'}"
        )
    return tuple(grant for grant in _GRANT_TYPES if grant in value)


def _check_response_types(value: object) -> None:
    if value is not None and value != ["code"]:
        raise InvalidClientMetadataError('response_types must be ["code"]')
