"""The kit's AuthClient counts its cache lookups (hit, miss) and its calls to the auth service by
outcome (ok, refused, unavailable), against a real auth service.

The registry is process-wide, so each test reads what changed while it ran.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from atoms_auth.settings import AuthSettings, InternalTokenSpec
from atoms_grpc import AuthClient, AuthClientPolicy, AuthServiceUnavailableError, RemoteServiceError
from tests.support.token_factory import remember

INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))
_SERIES = {
    "hit": ("atoms_auth_client_cache_lookups_total", {"result": "hit"}),
    "miss": ("atoms_auth_client_cache_lookups_total", {"result": "miss"}),
    "ok": ("atoms_auth_client_calls_total", {"outcome": "ok"}),
    "refused": ("atoms_auth_client_calls_total", {"outcome": "refused"}),
    "unavailable": ("atoms_auth_client_calls_total", {"outcome": "unavailable"}),
}


def _counts() -> dict[str, float]:
    return {key: REGISTRY.get_sample_value(name, labels) or 0.0 for key, (name, labels) in _SERIES.items()}


def _changes(before: dict[str, float]) -> dict[str, float]:
    """The series that changed since `before`, by how much."""
    after = _counts()
    return {key: after[key] - before[key] for key in _SERIES if after[key] != before[key]}


@pytest.fixture
async def auth_client(start_auth_server) -> AsyncIterator[AuthClient]:
    auth = await start_auth_server(
        AuthSettings(
            internal_tokens=(InternalTokenSpec(name="agent", token=SecretStr(INTERNAL_TOKEN)),),
            metrics_port=None,
        )
    )
    client = AuthClient(target=f"127.0.0.1:{auth.port}")
    try:
        yield client
    finally:
        await client.close()


async def test_a_first_validation_is_a_miss_and_a_call_answered_ok(auth_client: AuthClient) -> None:
    before = _counts()

    await auth_client.validate(INTERNAL_TOKEN)

    assert _changes(before) == {"miss": 1, "ok": 1}


async def test_a_second_validation_of_the_token_is_a_hit_and_calls_nobody(auth_client: AuthClient) -> None:
    await auth_client.validate(INTERNAL_TOKEN)
    before = _counts()

    principal = await auth_client.validate(f"Bearer {INTERNAL_TOKEN}")

    assert principal.service_name == "agent"
    assert _changes(before) == {"hit": 1}


async def test_a_refused_token_is_a_miss_and_a_refused_call_each_time(auth_client: AuthClient) -> None:
    unknown = remember(secrets.token_urlsafe(36))
    before = _counts()

    for _ in range(2):  # refusals are never cached
        with pytest.raises(RemoteServiceError):
            await auth_client.validate(unknown)

    assert _changes(before) == {"miss": 2, "refused": 2}


async def test_an_auth_service_nobody_listens_on_is_an_unavailable_call() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = int(probe.getsockname()[1])
    client = AuthClient(target=f"127.0.0.1:{port}", policy=AuthClientPolicy(unreachable_budget_s=0.5))
    before = _counts()
    try:
        with pytest.raises(AuthServiceUnavailableError):
            await client.validate(INTERNAL_TOKEN, timeout_s=30)
    finally:
        await client.close()

    assert _changes(before) == {"miss": 1, "unavailable": 1}
