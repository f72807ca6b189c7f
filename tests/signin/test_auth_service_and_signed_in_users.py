"""The auth service and tokens from the sign-in flows: accepted like today's dev tokens, refused after `exp`.

The emulator's clock starts ten minutes in the past (the auth service keeps real time), so a
token issued at sign-in has already expired for the auth service; refreshing the same session
with the clock moved to now gives a token it accepts.
"""

from __future__ import annotations

from typing import Any

import grpc
import jwt
import pytest

from tests.signin.conftest import SignInWorld
from tests.support.auth_calls import refusal, validate
from tests.support.local_authkit import PUBLIC_CALLBACK, MovableClock

TEN_MINUTES_S = 600.0


@pytest.fixture
def clock() -> MovableClock:
    past = MovableClock()
    past.advance(-TEN_MINUTES_S)
    return past


async def _signed_in(world: SignInWorld, email: str) -> dict[str, Any]:
    response = await world.authkit.exchange(await world.authkit.sign_in(email))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_signed_in_users_token_is_refused_after_its_exp_and_the_refreshed_one_accepted(
    world: SignInWorld, auth_stub_factory: Any
) -> None:
    stub = auth_stub_factory(world.auth.port)
    issued = await _signed_in(world, "ada@acme.test")
    world.authkit.clock.advance(TEN_MINUTES_S)

    refreshed = (await world.authkit.refresh(issued["refresh_token"])).json()

    expired = await refusal(stub, issued["access_token"])
    principal = await validate(stub, refreshed["access_token"], audience=world.mcp_url)
    assert (expired.code, expired.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_EXPIRED")
    assert (principal.subject, principal.org_id, principal.role) == ("user_ada", "org_acme", "admin")
    assert list(principal.permissions) == ["projects:write", "documents:write", "requirements:write"]
    assert (
        principal.session_id == jwt.decode(issued["access_token"], options={"verify_signature": False})["sid"]
    )


async def test_an_mcp_clients_token_is_accepted_for_its_resource_only(
    world: SignInWorld, auth_stub_factory: Any
) -> None:
    stub = auth_stub_factory(world.auth.port)
    world.authkit.clock.advance(TEN_MINUTES_S)
    client_id = await world.authkit.register_client()
    signed_in = await world.authkit.sign_in_public_client(client_id, resource=world.mcp_url)
    token = (
        await world.authkit.token(
            grant_type="authorization_code",
            code=signed_in.code,
            code_verifier=signed_in.verifier or "",
            redirect_uri=PUBLIC_CALLBACK,
            client_id=client_id,
        )
    ).json()["access_token"]

    principal = await validate(stub, token, audience=world.mcp_url)
    elsewhere = await refusal(stub, token, audience="https://agent.atoms.test")

    assert (principal.subject, principal.client_id) == ("user_ada", client_id)
    assert list(principal.audiences) == [world.mcp_url]
    assert elsewhere.reason == "INVALID_AUDIENCE"
