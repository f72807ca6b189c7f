"""The Python registry comes from the agent's JSON file, and the header helper mirrors getMCPAuthHeaders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atoms_agent_client import (
    FIRST_PARTY_MCPS,
    AccessTokenSession,
    InvalidAccessTokenError,
    find_first_party_mcp,
    get_mcp_auth_headers,
    static_session,
)
from tests.support.token_factory import remember

AGENT_LIST = (
    Path(__file__).resolve().parents[2] / "services" / "atoms_grpc" / "atoms_grpc" / "first_party_mcps.json"
)
TOKEN = remember("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJlLWZvci10ZXN0cw")


class CountingSession:
    """A session source that counts how often it is asked."""

    def __init__(self, token: str | None) -> None:
        self.calls = 0
        self._session = AccessTokenSession(access_token=token)

    def __call__(self) -> AccessTokenSession:
        self.calls += 1
        return self._session


def test_registry_holds_exactly_the_agents_first_party_list() -> None:
    document = json.loads(AGENT_LIST.read_text(encoding="utf-8"))
    assert set(FIRST_PARTY_MCPS) == set(document)
    for key, entry in document.items():
        assert FIRST_PARTY_MCPS[key].url == entry["url"]


def test_atoms_is_the_seeds_atoms_mcp_with_internal_auth_and_the_user_token() -> None:
    atoms = FIRST_PARTY_MCPS["atoms"]
    assert (atoms.display_name, atoms.auth, atoms.requires_user_token) == ("Atoms MCP", "internal", True)


def test_registry_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        FIRST_PARTY_MCPS["evil"] = FIRST_PARTY_MCPS["atoms"]  # type: ignore[index]


async def test_a_first_party_mcp_gets_the_sessions_token_as_a_bearer_header() -> None:
    assert await get_mcp_auth_headers("atoms", static_session(TOKEN)) == {"Authorization": f"Bearer {TOKEN}"}


async def test_an_async_session_source_works_like_a_sync_one() -> None:
    async def session() -> AccessTokenSession:
        return AccessTokenSession(access_token=TOKEN)

    assert await get_mcp_auth_headers("atoms", session) == {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    "session",
    [
        pytest.param(lambda: None, id="signed out"),
        pytest.param(static_session(None), id="no token"),
        pytest.param(static_session(""), id="empty token"),
    ],
)
async def test_a_session_without_a_token_gives_no_header(session) -> None:
    assert await get_mcp_auth_headers("atoms", session) == {}


@pytest.mark.parametrize("mcp_id", ["atoms-mcp", "atoms_mcp", "Atoms", "github", "__class__", ""])
async def test_an_unknown_or_lookalike_id_gets_no_header_and_the_session_is_not_asked(mcp_id: str) -> None:
    session = CountingSession(TOKEN)
    assert await get_mcp_auth_headers(mcp_id, session) == {}
    assert find_first_party_mcp(mcp_id) is None
    assert session.calls == 0


async def test_a_token_that_would_inject_a_header_is_refused_without_being_echoed() -> None:
    with pytest.raises(InvalidAccessTokenError) as caught:
        await get_mcp_auth_headers("atoms", static_session(f"{TOKEN}\r\nX-Admin: yes"))
    assert TOKEN not in str(caught.value)


def test_a_session_never_shows_its_token_in_repr() -> None:
    assert TOKEN not in repr(AccessTokenSession(access_token=TOKEN))
