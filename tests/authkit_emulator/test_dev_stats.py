"""`GET /dev/stats`: the local AuthKit counts login pages, sign-ins and grants.

The browser test reads it to show that chatting never sends the person back to a login page
(one authorize request per sign-in), while expired access tokens are refreshed.
"""

from __future__ import annotations

from tests.support.local_authkit import LocalAuthKit


async def _stats(authkit: LocalAuthKit) -> dict[str, int]:
    response = await authkit.http.get(f"{authkit.url}/dev/stats")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    return response.json()


async def test_a_fresh_emulator_counts_nothing(authkit: LocalAuthKit) -> None:
    assert await _stats(authkit) == {
        "authorize_requests": 0,
        "sign_ins": 0,
        "authorization_code_grants": 0,
        "refresh_token_grants": 0,
    }


async def test_a_sign_in_counts_one_login_page_one_code_and_refreshes_count_as_grants(
    authkit: LocalAuthKit,
) -> None:
    tokens = (await authkit.exchange(await authkit.sign_in("ada@acme.test"))).json()
    refreshed = await authkit.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200
    await authkit.refresh(refreshed.json()["refresh_token"])

    assert await _stats(authkit) == {
        "authorize_requests": 1,
        "sign_ins": 1,
        "authorization_code_grants": 1,
        "refresh_token_grants": 2,
    }


async def test_refused_requests_are_not_counted(authkit: LocalAuthKit) -> None:
    refused = await authkit.refresh("not-a-refresh-token")
    page = await authkit.http.get(authkit.workos_authorize_url(client_id="client_unknown"))

    assert refused.status_code == 400
    assert page.status_code == 400
    stats = await _stats(authkit)
    assert (stats["authorize_requests"], stats["refresh_token_grants"]) == (0, 0)
