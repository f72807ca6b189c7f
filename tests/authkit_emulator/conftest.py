"""Fixtures for the AuthKit emulator tests: a fake clock, key files in tmp_path, live emulators."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import jwt
import pytest

from atoms_devtools.authkit_emulator import EmulatorKeyStore, running_emulator
from tests.support.local_authkit import LocalAuthKit, local_authkit

START = 1_800_000_000.0


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "var" / "authkit" / "keys.json"


@pytest.fixture
def store(key_file: Path) -> EmulatorKeyStore:
    return EmulatorKeyStore(path=key_file)


@pytest.fixture
async def emulator(store: EmulatorKeyStore) -> AsyncIterator[str]:
    async with running_emulator(store, host="127.0.0.1", port=0, jwks_max_age_s=120) as base_url:
        yield base_url


@pytest.fixture
async def http(emulator: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=emulator, timeout=5.0) as client:
        yield client


async def _fetch_jwks(client: httpx.AsyncClient, path: str = "/oauth2/jwks") -> jwt.PyJWKSet:
    response = await client.get(path)
    response.raise_for_status()
    return jwt.PyJWKSet.from_dict(response.json())


def _verify(token: str, keys: jwt.PyJWKSet, *, issuer: str) -> dict[str, object]:
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(
        token,
        keys[kid].key,
        algorithms=["RS256"],
        issuer=issuer,
        options={"require": ["exp", "iat", "iss", "sub"]},
    )


@pytest.fixture
def fetch_jwks() -> Callable[..., Awaitable[jwt.PyJWKSet]]:
    """`await fetch_jwks(client, path)`: fetch a JWKS over HTTP and parse it as a verifier would."""
    return _fetch_jwks


@pytest.fixture
def verify() -> Callable[..., dict[str, object]]:
    """`verify(token, keys, issuer=...)`: check signature, issuer and expiry; return the claims."""
    return _verify


@pytest.fixture
async def authkit(tmp_path: Path) -> AsyncIterator[LocalAuthKit]:
    """A local AuthKit with the test application and a clock the test moves (tests.support.local_authkit)."""
    async with local_authkit(tmp_path) as kit:
        yield kit
