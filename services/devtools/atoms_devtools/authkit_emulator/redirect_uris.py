"""Redirect URIs: which may be registered, which match a registration, and building a redirect.

The emulator never redirects anywhere that was not registered: an authorization request's
`redirect_uri` must match one of its client's redirect URIs exactly, with one exception from
RFC 8252 7.3: for a loopback `http` URI the port may differ, because native apps and local
dev servers listen on whatever port is free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit

from atoms_devtools.authkit_emulator.oauth_errors import InvalidRedirectUriError
from atoms_grpc.loopback import is_loopback_host

MAX_URI_LENGTH = 2048


def check_redirect_uri(uri: str) -> str:
    """Return `uri` if a client may register it.

    Accepted: an absolute `https` URI, or `http` on a loopback host (localhost, 127.0.0.0/8,
    ::1); no fragment, no user info, at most 2048 characters.

    Raises:
        InvalidRedirectUriError: any other URI, saying why.
    """
    if len(uri) > MAX_URI_LENGTH:
        raise InvalidRedirectUriError(f"a redirect URI must be at most {MAX_URI_LENGTH} characters")
    parts = _split(uri)
    if parts is None or not parts.hostname:
        raise InvalidRedirectUriError("a redirect URI must be an absolute http(s) URI with a host")
    if parts.fragment or "#" in uri:
        raise InvalidRedirectUriError("a redirect URI must not have a fragment")
    if parts.username is not None or parts.password is not None:
        raise InvalidRedirectUriError("a redirect URI must not carry user information")
    if parts.scheme == "https":
        return uri
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return uri
    raise InvalidRedirectUriError(
        f"redirect URI scheme {parts.scheme!r} on host {parts.hostname!r} is not allowed: "
        "use https, or http on a loopback host (localhost, 127.0.0.1, [::1])"
    )


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """Whether `requested` is `registered`, or differs only in the port of a loopback http URI."""
    if registered == requested:
        return True
    mine, theirs = _split(registered), _split(requested)
    if mine is None or theirs is None or (mine.scheme, theirs.scheme) != ("http", "http"):
        return False
    if not mine.hostname or not is_loopback_host(mine.hostname):
        return False
    if theirs.username is not None or theirs.password is not None or theirs.fragment:
        return False
    return (mine.hostname, mine.path, mine.query) == (theirs.hostname, theirs.path, theirs.query)


def origin_allowed(url: str, redirect_uris: Iterable[str]) -> bool:
    """Whether `url` shares its origin with one of `redirect_uris` (loopback ports may differ).

    Used for logout's `return_to`: the emulator sends people back to the application they
    signed in to, never to a URL someone else chose.
    """
    target = _split(url)
    if target is None or target.scheme not in ("http", "https") or not target.hostname:
        return False
    if target.username is not None or target.password is not None:
        return False
    for registered in redirect_uris:
        parts = _split(registered)
        if parts is None or (parts.scheme, parts.hostname) != (target.scheme, target.hostname):
            continue
        if parts.port == target.port or (parts.scheme == "http" and is_loopback_host(target.hostname)):
            return True
    return False


def with_parameters(uri: str, parameters: Mapping[str, str | None]) -> str:
    """Return `uri` with `parameters` (None values skipped) appended to its query."""
    parts = urlsplit(uri)
    extra = urlencode({name: value for name, value in parameters.items() if value is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return parts
