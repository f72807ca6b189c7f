"""The first-party MCP list (the AuthKit integration plan's FIRST_PARTY_MCPS), read from one JSON file.

The same file feeds the agent's configuration and the client libraries, so the list of
servers that may receive a user's token has exactly one source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PACKAGED_FILE = "first_party_mcps.json"


@dataclass(frozen=True, slots=True)
class FirstPartyMcp:
    """A system MCP server from the first-party list.

    `stateless` says the server keeps nothing per MCP session (the Atoms MCP runs in stateless
    HTTP mode), so the agent may let callers share a session to it. Anything else gets a
    session per principal: state a server keeps per session must never cross principals.
    """

    key: str
    display_name: str
    url: str
    requires_user_token: bool
    transport: str = "streamable_http"
    auth: str = "internal"
    stateless: bool = False


class FirstPartyListError(ValueError):
    """The first-party list is malformed; the message names the entry and the field."""


def load_first_party_mcps(path: Path | None = None) -> tuple[FirstPartyMcp, ...]:
    """Read the list from `path`, or from the copy packaged with the agent.

    Raises:
        FirstPartyListError: the file is not a JSON object of valid entries.
        OSError: the file cannot be read.
    """
    text = (
        path.read_text(encoding="utf-8")
        if path is not None
        else resources.files("atoms_grpc").joinpath(PACKAGED_FILE).read_text(encoding="utf-8")
    )
    try:
        document = json.loads(text)
    except ValueError as err:
        raise FirstPartyListError("the first-party MCP list is not valid JSON") from err
    if not isinstance(document, dict):
        raise FirstPartyListError("the first-party MCP list must be a JSON object keyed by server name")
    return tuple(_entry(key, value) for key, value in document.items())


def _entry(key: str, value: Any) -> FirstPartyMcp:
    if not isinstance(value, dict):
        raise FirstPartyListError(f"first-party MCP {key!r} must be an object")
    url = value.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise FirstPartyListError(f"first-party MCP {key!r}: url must be an http(s) URL")
    if value.get("transport", "streamable_http") != "streamable_http":
        raise FirstPartyListError(f"first-party MCP {key!r}: only the streamable_http transport is supported")
    if value.get("auth", "internal") not in ("internal", "none"):
        raise FirstPartyListError(f"first-party MCP {key!r}: auth must be internal or none")
    if not isinstance(value.get("stateless", False), bool):
        # bool("false") is True: a quoted flag would silently let principals share sessions.
        raise FirstPartyListError(f"first-party MCP {key!r}: stateless must be true or false")
    return FirstPartyMcp(
        key=key,
        display_name=str(value.get("name", key)),
        url=url,
        requires_user_token=bool(value.get("requiresUserToken", True)),
        transport="streamable_http",
        auth=str(value.get("auth", "internal")),
        stateless=value.get("stateless", False),
    )
