"""Pages of the agent's list calls: `page_size`, `page_token`, `next_page_token`.

A page token is opaque to callers. It carries the offset of the next page and a digest of
what was listed (the call and its filter), so a token is refused when it is sent to another
call or with another filter, and a hand-made or truncated one is a clean INVALID_REQUEST.
Offsets (not cursors) suit these lists: they are short, bounded by the registration limits
and the per-server tool bounds, and rebuilt on every call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from atoms_agent.errors import InvalidRequestError

_MAX_TOKEN_CHARS = 256
_MAX_OFFSET = 1_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which slice of a list one call asks for."""

    offset: int
    size: int
    listing: str  # the call and its filter, as the token binds them

    def slice_end(self, total: int) -> int:
        """Where this page ends in a list of `total` items."""
        return min(total, self.offset + self.size)

    def next_token(self, total: int) -> str:
        """The token of the page after this one, or "" when this page is the last."""
        end = self.slice_end(total)
        return _encode(self.listing, end) if end < total else ""


def page_request(
    *, page_size: int, page_token: str, listing: str, default_size: int, max_size: int
) -> PageRequest:
    """Read a list call's paging fields.

    Args:
        page_size: the request's `page_size`: 0 means `default_size`; larger than `max_size` is cut.
        page_token: the request's `page_token`: "" for the first page.
        listing: the call and its filter (for example `ListTools:` plus the server name).

    Raises:
        InvalidRequestError: a negative size, or a token that is not one this listing gave.
    """
    if page_size < 0:
        raise InvalidRequestError("page_size", "must be 0 (the default) or positive")
    size = min(page_size or default_size, max_size)
    offset = _decode(page_token, listing) if page_token else 0
    return PageRequest(offset=offset, size=size, listing=listing)


def _digest(listing: str) -> str:
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()[:16]


def _encode(listing: str, offset: int) -> str:
    raw = json.dumps({"l": _digest(listing), "o": offset}, separators=(",", ":")).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode(token: str, listing: str) -> int:
    problem = "is not a page token of this call; pass the next_page_token of its previous page"
    if len(token) > _MAX_TOKEN_CHARS:
        raise InvalidRequestError("page_token", problem)
    try:
        document = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidRequestError("page_token", problem) from None
    if not isinstance(document, dict) or document.get("l") != _digest(listing):
        raise InvalidRequestError("page_token", problem)
    offset = document.get("o")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 < offset <= _MAX_OFFSET:
        raise InvalidRequestError("page_token", problem)
    return offset
