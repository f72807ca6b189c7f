"""AuthServiceTokenVerifier: every answer of the auth service, and what the verifier makes of it.

The auth client is replaced by a stub that answers as told; the HTTP consequences (401, 503)
are covered end to end in test_mcp_http_auth.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

from atoms_grpc.auth_errors import AuthServiceUnavailableError
from atoms_grpc.principal import Principal, PrincipalKind
from atoms_grpc.service_error import RemoteServiceError
from atoms_mcp.token_verifier import AtomsAccessToken, AuthServiceTokenVerifier, AuthUnavailableError

AUDIENCE = "https://mcp.atoms.test/api/mcp"
TOKEN = "header.payload.signature"
ALICE = Principal(
    kind=PrincipalKind.USER,
    subject="user_alice",
    issuer="https://auth.atoms.test",
    org_id="org_1",
    scopes=("openid",),
    client_id="client_app",
    expires_at=datetime(2030, 1, 1, tzinfo=UTC),
)


class StubAuthClient:
    """Answers `validate` with a principal or raises the error it was given; records the calls."""

    target = "auth.test:50051"

    def __init__(self, answer: Principal | Exception) -> None:
        self.answer = answer
        self.calls: list[dict[str, object]] = []

    async def validate(self, token: str, **kwargs: object) -> Principal:
        self.calls.append({"token": token, **kwargs})
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _remote(code: grpc.StatusCode, reason: str) -> RemoteServiceError:
    return RemoteServiceError("refused", status_code=code, reason=reason, domain="auth.atoms.internal")


def _verifier(client: StubAuthClient) -> AuthServiceTokenVerifier:
    return AuthServiceTokenVerifier(
        auth_client=client,  # type: ignore[arg-type]
        audience=AUDIENCE,
        timeout_s=1.5,
        retry_after_s=7,
        required_scopes=("atoms:mcp",),
    )


async def test_accepted_token_becomes_an_access_token_carrying_the_principal() -> None:
    client = StubAuthClient(ALICE)
    access = await _verifier(client).verify_token(TOKEN)
    assert isinstance(access, AtomsAccessToken)
    assert access.principal == ALICE
    assert (access.client_id, access.subject, access.scopes) == ("client_app", "user_alice", ["openid"])
    assert access.expires_at == int(ALICE.expires_at.timestamp())  # type: ignore[union-attr]
    assert access.claims["iss"] == "https://auth.atoms.test"
    assert TOKEN not in repr(access)


async def test_audience_is_the_resource_url_and_required_scopes_are_not_sent_upstream() -> None:
    client = StubAuthClient(ALICE)
    await _verifier(client).verify_token(TOKEN)
    assert client.calls == [{"token": TOKEN, "audience": AUDIENCE, "timeout_s": 1.5}]


@pytest.mark.parametrize(
    "refusal",
    [
        _remote(grpc.StatusCode.UNAUTHENTICATED, "TOKEN_EXPIRED"),
        _remote(grpc.StatusCode.UNAUTHENTICATED, "INVALID_AUDIENCE"),
        _remote(grpc.StatusCode.PERMISSION_DENIED, "INSUFFICIENT_SCOPE"),
        _remote(grpc.StatusCode.INVALID_ARGUMENT, "TOKEN_TOO_LARGE"),
    ],
    ids=["expired", "wrong audience", "permission denied", "oversized token"],
)
async def test_refused_token_is_none_so_fastmcp_answers_401(refusal: RemoteServiceError) -> None:
    assert await _verifier(StubAuthClient(refusal)).verify_token(TOKEN) is None


@pytest.mark.parametrize(
    "failure",
    [
        AuthServiceUnavailableError("the auth service is unavailable; retry later"),
        _remote(grpc.StatusCode.UNAVAILABLE, "JWKS_UNAVAILABLE"),
        _remote(grpc.StatusCode.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"),
        _remote(grpc.StatusCode.INTERNAL, "INTERNAL"),
        ValueError("principal kind 7 is not a known kind"),
    ],
    ids=["unreachable", "no signing keys", "deadline exceeded", "internal error", "unknown principal kind"],
)
async def test_auth_outage_raises_auth_unavailable_never_none(failure: Exception) -> None:
    with pytest.raises(AuthUnavailableError) as raised:
        await _verifier(StubAuthClient(failure)).verify_token(TOKEN)
    assert raised.value.retry_after_s == 7


def test_verifier_without_an_audience_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="audience"):
        AuthServiceTokenVerifier(
            auth_client=StubAuthClient(ALICE),  # type: ignore[arg-type]
            audience="",
            timeout_s=1.0,
            retry_after_s=5,
        )


def test_the_provider_keeps_fastmcps_middleware_and_only_adds_the_503_answer() -> None:
    # FastMCP's own list, extended through super(): same classes in the same order, and the
    # authentication middleware answers an auth outage with our on_error.
    from fastmcp.server.auth import RemoteAuthProvider
    from starlette.middleware.authentication import AuthenticationMiddleware

    from atoms_mcp.auth_provider import AtomsAuthProvider, answer_authentication_error

    provider = AtomsAuthProvider(
        token_verifier=_verifier(StubAuthClient(AuthServiceUnavailableError("down"))),
        authkit_domain="https://example.authkit.app",
        base_url="https://mcp.example.test",
    )
    ours = provider.get_middleware()
    theirs = RemoteAuthProvider.get_middleware(provider)
    assert [item.cls for item in ours] == [item.cls for item in theirs]
    authentication = [item for item in ours if item.cls is AuthenticationMiddleware]
    assert len(authentication) == 1
    assert authentication[0].kwargs["on_error"] is answer_authentication_error
