"""FIRST_PARTY_MCPS: the first-party MCP registry, from the same JSON file the agent's configuration reads.

The servers listed here are the only ones a client may send the signed-in user's token to
(the TypeScript package generates its copy from the same file).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from atoms_grpc.first_party_mcps import FirstPartyMcp, load_first_party_mcps

FIRST_PARTY_MCPS: Mapping[str, FirstPartyMcp] = MappingProxyType(
    {entry.key: entry for entry in load_first_party_mcps()}
)
"""Read-only: `atoms` -> Atoms MCP (auth `internal`, requires the user token), and any other entry."""


def find_first_party_mcp(mcp_id: str) -> FirstPartyMcp | None:
    """Return the registry entry of `mcp_id`, or None when it is not a first-party id."""
    return FIRST_PARTY_MCPS.get(mcp_id)


def forwards_user_token(mcp_id: str) -> bool:
    """Whether the signed-in user's token may be sent to the MCP `mcp_id`.

    True only for a first-party entry with auth `internal` that requires the user token;
    an unknown id, a third-party server or a lookalike name (`atoms-mcp`) gets False.
    """
    entry = find_first_party_mcp(mcp_id)
    return entry is not None and entry.auth == "internal" and entry.requires_user_token
