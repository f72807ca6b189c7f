"""JWKS behaviour: refetch on unknown kid, flood control, stale-if-error, limits, rotation.

Where time matters, `JwksCache` is driven directly with a fake monotonic clock; the other
cases run the real auth service on loopback and call it over gRPC. Both fetch from a counting
JWKS endpoint served by uvicorn on loopback, which a test can break or stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import grpc
import httpx
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_auth.errors import UnknownSigningKeyError
from atoms_auth.jwks_cache import JwksCache, JwksCachePolicy, JwksFetchError
from atoms_auth.settings import AuthSettings, InternalTokenSpec, TrustedIssuer
from tests.conftest import log_lines
from tests.support.auth_calls import refusal, validate
from tests.support.jwks_server import JwksEndpoint, JwksMode
from tests.support.loopback_http import serving_asgi
from tests.support.token_factory import KeyPair, mint, new_rsa_key, remember

INTERNAL_TOKEN = remember(secrets.token_urlsafe(36))
TTL_S = 300  # the max-age the endpoint publishes; inside every policy's TTL bounds
SLOW_S = 1.0  # how long the endpoint hangs in SLOW mode; above every short fetch timeout
UNIT_POLICY = JwksCachePolicy(
    default_ttl_s=600,
    min_ttl_s=60,
    max_ttl_s=3600,
    refresh_cooldown_s=10,
    failure_retry_s=0.1,
    unknown_kid_ttl_s=60,
    fetch_timeout_s=0.3,
)
SERVICE_POLICY = JwksCachePolicy(refresh_cooldown_s=0.5, failure_retry_s=0.1, fetch_timeout_s=0.3)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

STOPPED = "stopped"  # an outage where nothing listens on the issuer's port any more
OUTAGES = [
    pytest.param(STOPPED, id="connection refused"),
    pytest.param(JwksMode.ERROR_500, id="HTTP 500"),
    pytest.param(JwksMode.SLOW, id="slower than the fetch timeout"),
    pytest.param(JwksMode.INVALID_JSON, id="invalid JSON"),
    pytest.param(JwksMode.EMPTY_KEY_SET, id="empty key set"),
]


@dataclass(frozen=True)
class Keys:
    """Signing keys of one issuer across a rotation: a is published first, then b, then c."""

    a: KeyPair
    b: KeyPair
    c: KeyPair


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Issuer:
    """A counting JWKS endpoint on loopback that a test can break, stop and bring back."""

    endpoint: JwksEndpoint
    port: int = 0
    _running: contextlib.AsyncExitStack | None = None

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks"

    @property
    def name(self) -> str:
        """The `iss` of the tokens this issuer signs."""
        return f"http://127.0.0.1:{self.port}/tenant"

    async def start(self) -> None:
        """Serve the endpoint (on the same port as before, once it has one)."""
        stack = contextlib.AsyncExitStack()
        base_url = await stack.enter_async_context(serving_asgi(self.endpoint.app(), port=self.port))
        self.port = int(base_url.rsplit(":", 1)[1])
        self._running = stack

    async def stop(self) -> None:
        """Stop serving: fetches now get connection refused."""
        if self._running is not None:
            await self._running.aclose()
            self._running = None

    async def go_down(self, outage: JwksMode | str) -> None:
        """Fail every later fetch in the way `outage` names."""
        if outage == STOPPED:
            await self.stop()
        else:
            self.endpoint.mode = JwksMode(outage)

    async def come_back(self) -> None:
        """Answer fetches with the published keys again."""
        self.endpoint.mode = JwksMode.OK
        if self._running is None:
            await self.start()

    def token(self, key: KeyPair, **mint_options: Any) -> str:
        """A fresh token of this issuer signed by `key` (never in the verified-token cache)."""
        return mint(key, issuer=self.name, **mint_options)


@dataclass
class Service:
    """A running auth service, reached over one real gRPC channel."""

    auth: auth_pb2_grpc.AuthServiceStub
    health: health_pb2_grpc.HealthStub

    async def health_status(self) -> int:
        response = await self.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        return response.status

    async def is_serving(self) -> bool:
        return await self.health_status() == SERVING


async def _eventually(condition: Callable[[], bool | Awaitable[bool]], *, within_s: float = 10.0) -> None:
    """Poll `condition` every 20 ms until it holds; fail after `within_s`."""
    deadline = time.monotonic() + within_s
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, f"condition still false after {within_s}s"
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(new_rsa_key("kid_a"), new_rsa_key("kid_b"), new_rsa_key("kid_c"))


@pytest.fixture
async def issuer(keys: Keys) -> AsyncIterator[Issuer]:
    endpoint = JwksEndpoint(keys=[keys.a.public_jwk], cache_control=f"public, max-age={TTL_S}", slow_s=SLOW_S)
    running = Issuer(endpoint)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    # follow_redirects=True on purpose: the cache must refuse redirects whatever the shared client does.
    async with httpx.AsyncClient(timeout=5.0, follow_redirects=True) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def new_cache(issuer: Issuer, http_client: httpx.AsyncClient, clock: FakeClock) -> Callable[..., JwksCache]:
    """Build a JwksCache on the issuer's endpoint with UNIT_POLICY, overridden by keyword."""

    def build(**policy: float) -> JwksCache:
        return JwksCache(
            issuer=issuer.name,
            jwks_url=issuer.jwks_url,
            http_client=http_client,
            policy=replace(UNIT_POLICY, **policy),
            clock=clock,
        )

    return build


@pytest.fixture
async def start_service(start_auth_server: Any) -> AsyncIterator[Callable[..., Awaitable[Service]]]:
    """Start the auth service trusting one issuer, with SERVICE_POLICY overridden by keyword."""
    channels: list[grpc.aio.Channel] = []

    async def start(issuer: Issuer, *, wait_until_serving: bool = True, **policy: float) -> Service:
        settings = AuthSettings(
            issuers=(TrustedIssuer(issuer=issuer.name, jwks_url=issuer.jwks_url),),
            internal_tokens=(InternalTokenSpec(name="agent", token=SecretStr(INTERNAL_TOKEN)),),
            jwks=replace(SERVICE_POLICY, **policy),
            metrics_port=None,
            shutdown_grace_s=0.5,
        )
        server = await start_auth_server(settings)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        channels.append(channel)
        service = Service(auth_pb2_grpc.AuthServiceStub(channel), health_pb2_grpc.HealthStub(channel))
        if wait_until_serving:
            await _eventually(service.is_serving)
        return service

    yield start
    for channel in channels:
        await channel.close()


# -- refetch on unknown kid ---------------------------------------------------------------------


async def test_unknown_kid_triggers_exactly_one_refetch_that_finds_the_new_key(
    issuer: Issuer, new_cache: Callable[..., JwksCache], clock: FakeClock, keys: Keys
) -> None:
    cache = new_cache()
    await cache.refresh()
    issuer.endpoint.keys.append(keys.b.public_jwk)
    clock.advance(UNIT_POLICY.refresh_cooldown_s)

    key = await cache.get_signing_key(keys.b.kid)

    assert key.kid == keys.b.kid
    assert issuer.endpoint.requests == 2


async def test_burst_of_unknown_kids_causes_at_most_one_fetch_per_cooldown(
    issuer: Issuer, new_cache: Callable[..., JwksCache], clock: FakeClock
) -> None:
    cache = new_cache()
    await cache.refresh()
    cooldown = UNIT_POLICY.refresh_cooldown_s
    refetches = []
    for advance in (cooldown, 0, cooldown / 2, cooldown / 2):
        clock.advance(advance)
        burst = [cache.get_signing_key(f"kid_{uuid.uuid4().hex}") for _ in range(1000)]
        results = await asyncio.gather(*burst, return_exceptions=True)
        assert all(isinstance(result, UnknownSigningKeyError) for result in results)
        refetches.append(issuer.endpoint.requests - 1)

    assert refetches == [1, 1, 1, 2]


async def test_burst_of_random_kids_is_refused_at_one_fetch_per_cooldown_while_a_valid_token_passes(
    issuer: Issuer, start_service: Callable[..., Awaitable[Service]], keys: Keys
) -> None:
    cooldown = 1.0
    service = await start_service(issuer, refresh_cooldown_s=cooldown)
    forged = [issuer.token(keys.b, header_overrides={"kid": f"kid_{uuid.uuid4().hex}"}) for _ in range(1000)]
    calls: list[Awaitable[Any]] = [refusal(service.auth, token) for token in forged]
    calls.insert(500, validate(service.auth, issuer.token(keys.a, subject="user_valid")))
    await asyncio.sleep(cooldown)  # let the first unknown kid of the burst be allowed one refetch
    fetches_before, started = issuer.endpoint.requests, time.monotonic()

    results = await asyncio.gather(*calls)

    elapsed = time.monotonic() - started
    assert results.pop(500).subject == "user_valid"
    assert {(r.code, r.reason) for r in results} == {(grpc.StatusCode.UNAUTHENTICATED, "UNKNOWN_SIGNING_KEY")}
    assert issuer.endpoint.requests - fetches_before <= 1 + int(elapsed // cooldown)


async def test_unknown_kid_asked_again_after_the_cooldown_is_refused_from_the_negative_cache(
    issuer: Issuer, new_cache: Callable[..., JwksCache], clock: FakeClock
) -> None:
    cache = new_cache()
    await cache.refresh()
    for _ in range(2):
        clock.advance(UNIT_POLICY.refresh_cooldown_s)
        with pytest.raises(UnknownSigningKeyError):
            await cache.get_signing_key("kid_ghost")

    assert issuer.endpoint.requests == 2


async def test_unknown_kid_may_trigger_a_fetch_again_once_its_negative_entry_expires(
    issuer: Issuer, new_cache: Callable[..., JwksCache], clock: FakeClock
) -> None:
    cache = new_cache()
    await cache.refresh()
    for advance in (UNIT_POLICY.refresh_cooldown_s, UNIT_POLICY.unknown_kid_ttl_s):
        clock.advance(advance)
        with pytest.raises(UnknownSigningKeyError):
            await cache.get_signing_key("kid_ghost")

    assert issuer.endpoint.requests == 3


async def test_key_rotation_keeps_every_valid_token_accepted(
    issuer: Issuer, start_service: Callable[..., Awaitable[Service]], keys: Keys
) -> None:
    service = await start_service(issuer)
    assert (await validate(service.auth, issuer.token(keys.a))).subject

    issuer.endpoint.keys = [keys.b.public_jwk, keys.a.public_jwk]
    await asyncio.sleep(SERVICE_POLICY.refresh_cooldown_s)
    assert (await validate(service.auth, issuer.token(keys.b))).subject
    assert (await validate(service.auth, issuer.token(keys.a))).subject

    issuer.endpoint.keys = [keys.c.public_jwk, keys.b.public_jwk]  # a is dropped, c is next
    await asyncio.sleep(SERVICE_POLICY.refresh_cooldown_s)
    assert (await validate(service.auth, issuer.token(keys.c))).subject
    assert (await validate(service.auth, issuer.token(keys.b))).subject
    assert (await refusal(service.auth, issuer.token(keys.a))).reason == "UNKNOWN_SIGNING_KEY"


# -- stale-if-error -------------------------------------------------------------------------------


@pytest.mark.parametrize("outage", OUTAGES)
async def test_keys_past_their_ttl_are_still_served_while_the_issuer_is_down(
    issuer: Issuer, new_cache: Callable[..., JwksCache], clock: FakeClock, keys: Keys, outage: JwksMode | str
) -> None:
    cache = new_cache()
    await cache.refresh()
    await issuer.go_down(outage)
    clock.advance(TTL_S + 1)
    with pytest.raises(JwksFetchError):
        await cache.refresh()

    assert (await cache.get_signing_key(keys.a.kid)).kid == keys.a.kid
    assert cache.is_ready


@pytest.mark.parametrize("outage", OUTAGES)
async def test_issuer_outage_keeps_already_published_keys_accepted(
    issuer: Issuer, start_service: Callable[..., Awaitable[Service]], keys: Keys, outage: JwksMode | str
) -> None:
    service = await start_service(issuer, refresh_cooldown_s=0.0)
    await issuer.go_down(outage)
    # An unknown kid makes the service refetch now, while the issuer is down.
    assert (await refusal(service.auth, issuer.token(keys.b))).reason == "JWKS_UNAVAILABLE"

    assert (await validate(service.auth, issuer.token(keys.a, subject="user_during_outage"))).subject == (
        "user_during_outage"
    )


# -- cold start with the issuer down ------------------------------------------------------------


async def test_health_stays_not_serving_while_the_issuer_fails_at_cold_start(
    issuer: Issuer, start_service: Callable[..., Awaitable[Service]]
) -> None:
    await issuer.go_down(JwksMode.ERROR_500)
    service = await start_service(issuer, wait_until_serving=False)
    await _eventually(lambda: issuer.endpoint.requests >= 2)  # the warm-up and at least one retry failed

    assert await service.health_status() == NOT_SERVING


async def test_jwt_fails_closed_as_unavailable_when_no_keys_could_ever_be_fetched(
    issuer: Issuer, start_service: Callable[..., Awaitable[Service]], keys: Keys
) -> None:
    await issuer.go_down(STOPPED)
    service = await start_service(issuer, wait_until_serving=False)

    result = await refusal(service.auth, issuer.token(keys.a))

    assert (result.code, result.reason) == (grpc.StatusCode.UNAVAILABLE, "JWKS_UNAVAILABLE")


async def test_internal_token_is_accepted_while_the_issuer_is_down_at_cold_start(
    issuer: Issuer, start_service: Callable[..., Awaitable[Service]]
) -> None:
    await issuer.go_down(STOPPED)
    service = await start_service(issuer, wait_until_serving=False)

    principal = await validate(service.auth, INTERNAL_TOKEN)

    assert (principal.kind, principal.service_name) == (auth_pb2.PRINCIPAL_KIND_INTERNAL, "agent")


@pytest.mark.parametrize("outage", OUTAGES[:2])  # connection refused, HTTP 500
async def test_service_becomes_serving_and_accepts_the_token_once_the_issuer_is_back(
    issuer: Issuer, start_service: Callable[..., Awaitable[Service]], keys: Keys, outage: JwksMode | str
) -> None:
    await issuer.go_down(outage)
    service = await start_service(issuer, wait_until_serving=False)
    token = issuer.token(keys.a, subject="user_after_outage")
    assert (await refusal(service.auth, token)).reason == "JWKS_UNAVAILABLE"

    await issuer.come_back()
    await _eventually(service.is_serving, within_s=10.0)

    assert (await validate(service.auth, token)).subject == "user_after_outage"


# -- a refresh is its own task --------------------------------------------------------------------


async def test_refresh_survives_the_cancellation_of_the_call_that_triggered_it(
    issuer: Issuer, new_cache: Callable[..., JwksCache], keys: Keys
) -> None:
    issuer.endpoint.mode, issuer.endpoint.slow_s = JwksMode.SLOW, 0.5
    cache = new_cache(fetch_timeout_s=5.0)
    caller = asyncio.create_task(cache.get_signing_key(keys.a.kid))
    await _eventually(lambda: issuer.endpoint.requests == 1)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller

    await _eventually(lambda: cache.is_ready, within_s=5.0)
    assert (await cache.get_signing_key(keys.a.kid)).kid == keys.a.kid
    assert issuer.endpoint.requests == 1


async def test_refresh_survives_the_client_deadline_of_the_call_that_triggered_it(
    issuer: Issuer, start_service: Callable[..., Awaitable[Service]], keys: Keys
) -> None:
    service = await start_service(issuer, refresh_cooldown_s=0.0, fetch_timeout_s=5.0)
    issuer.endpoint.keys.append(keys.b.public_jwk)
    # The deadline must leave the server time to receive the call even on a loaded machine,
    # and the fetch must outlast it by far.
    issuer.endpoint.mode, issuer.endpoint.slow_s = JwksMode.SLOW, 1.5
    fetches_before = issuer.endpoint.requests
    with pytest.raises(grpc.aio.AioRpcError):  # the code is the subject of the test below
        await validate(service.auth, issuer.token(keys.b), timeout=0.4)
    await _eventually(lambda: issuer.endpoint.requests == fetches_before + 1)

    assert (await validate(service.auth, issuer.token(keys.b, subject="user_b"))).subject == "user_b"
    assert issuer.endpoint.requests == fetches_before + 1


async def test_deadline_passing_while_a_jwks_fetch_hangs_is_not_an_internal_error(
    issuer: Issuer, start_service: Callable[..., Awaitable[Service]], keys: Keys
) -> None:
    service = await start_service(issuer, refresh_cooldown_s=0.0, fetch_timeout_s=5.0)
    issuer.endpoint.mode, issuer.endpoint.slow_s = JwksMode.SLOW, 1.5  # outlasts all the calls below
    lines_before = len(log_lines())
    codes = set()
    # The server and the client race at the deadline, so make the call often enough to lose once.
    for _ in range(10):
        token = issuer.token(keys.b, header_overrides={"kid": f"kid_{uuid.uuid4().hex}"})
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await validate(service.auth, token, timeout=0.05)
        codes.add(caught.value.code())

    unhandled = [line for line in log_lines()[lines_before:] if "unhandled error" in line]
    assert (codes, unhandled) == ({grpc.StatusCode.DEADLINE_EXCEEDED}, [])


# -- the event loop is never blocked --------------------------------------------------------------


async def test_event_loop_keeps_running_while_a_fetch_hangs(
    issuer: Issuer, new_cache: Callable[..., JwksCache], keys: Keys
) -> None:
    issuer.endpoint.mode, issuer.endpoint.slow_s = JwksMode.SLOW, 0.5
    cache = new_cache(fetch_timeout_s=5.0)
    fetch = asyncio.create_task(cache.get_signing_key(keys.a.kid))
    ticks = 0
    while not fetch.done():
        await asyncio.sleep(0.01)
        ticks += 1

    assert (await fetch).kid == keys.a.kid
    assert ticks >= 5


@pytest.mark.parametrize(
    "token_of",
    [
        pytest.param(lambda issuer, keys: INTERNAL_TOKEN, id="internal token"),
        pytest.param(lambda issuer, keys: issuer.token(keys.a), id="token signed by a cached key"),
    ],
)
async def test_other_calls_are_answered_while_a_jwks_fetch_hangs(
    issuer: Issuer,
    start_service: Callable[..., Awaitable[Service]],
    keys: Keys,
    token_of: Callable[[Issuer, Keys], str],
) -> None:
    service = await start_service(issuer, refresh_cooldown_s=0.0, fetch_timeout_s=5.0)
    issuer.endpoint.mode = JwksMode.SLOW
    fetches_before = issuer.endpoint.requests
    hanging = asyncio.create_task(refusal(service.auth, issuer.token(keys.b)))
    await _eventually(lambda: issuer.endpoint.requests == fetches_before + 1)

    assert (await validate(service.auth, token_of(issuer, keys))).subject
    assert not hanging.done()
    assert (await hanging).reason == "UNKNOWN_SIGNING_KEY"


# -- TTL from Cache-Control -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cache_control", "ttl_s"),
    [
        pytest.param("public, max-age=300", 300, id="max-age within bounds"),
        pytest.param("public, max-age=5", UNIT_POLICY.min_ttl_s, id="max-age below the minimum"),
        pytest.param("public, max-age=999999", UNIT_POLICY.max_ttl_s, id="max-age above the maximum"),
        pytest.param("public", UNIT_POLICY.default_ttl_s, id="no max-age"),
        pytest.param("no-store", UNIT_POLICY.min_ttl_s, id="no-store"),
    ],
)
async def test_cache_control_max_age_sets_the_ttl_within_bounds(
    issuer: Issuer,
    new_cache: Callable[..., JwksCache],
    clock: FakeClock,
    keys: Keys,
    cache_control: str,
    ttl_s: float,
) -> None:
    issuer.endpoint.cache_control = cache_control
    cache = new_cache()
    await cache.refresh()
    clock.advance(ttl_s - 1)
    await cache.get_signing_key(keys.a.kid)
    assert issuer.endpoint.requests == 1

    clock.advance(2)
    await cache.get_signing_key(keys.a.kid)
    await _eventually(lambda: cache.is_fresh)
    assert issuer.endpoint.requests == 2


# -- hostile or broken responses ------------------------------------------------------------------


def _redirect(endpoint: JwksEndpoint) -> None:
    endpoint.mode = JwksMode.REDIRECT


def _oversized(endpoint: JwksEndpoint) -> None:
    endpoint.mode = JwksMode.HUGE


def _too_many_keys(endpoint: JwksEndpoint) -> None:
    endpoint.keys = [{**endpoint.keys[0], "kid": f"kid_{i}"} for i in range(5)]


def _only_encryption_keys(endpoint: JwksEndpoint) -> None:
    endpoint.keys = [{**endpoint.keys[0], "use": "enc"}]


@pytest.mark.parametrize(
    "break_issuer",
    [
        pytest.param(_redirect, id="redirect"),
        pytest.param(_oversized, id="over the byte limit"),
        pytest.param(_too_many_keys, id="over the key-count limit"),
        pytest.param(_only_encryption_keys, id="no signing key"),
    ],
)
async def test_refused_jwks_response_keeps_the_last_good_keys(
    issuer: Issuer,
    new_cache: Callable[..., JwksCache],
    clock: FakeClock,
    keys: Keys,
    break_issuer: Callable[[JwksEndpoint], None],
) -> None:
    cache = new_cache(max_keys=4)
    await cache.refresh()
    break_issuer(issuer.endpoint)
    clock.advance(TTL_S + 1)
    with pytest.raises(JwksFetchError):
        await cache.refresh()

    assert (await cache.get_signing_key(keys.a.kid)).kid == keys.a.kid


async def test_redirect_location_is_never_requested(
    issuer: Issuer, new_cache: Callable[..., JwksCache]
) -> None:
    issuer.endpoint.mode = JwksMode.REDIRECT
    with pytest.raises(JwksFetchError):
        await new_cache().refresh()

    assert issuer.endpoint.other_requests == []


async def test_streamed_body_over_the_byte_limit_is_refused_before_it_is_all_read() -> None:
    chunks_sent = 0

    async def endless_body() -> AsyncIterator[bytes]:  # no content-length: the limit must hold while reading
        nonlocal chunks_sent
        yield b'{"keys": [], "pad": "'
        for _ in range(1000):
            chunks_sent += 1
            yield b"x" * 1024

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=endless_body()))
    async with httpx.AsyncClient(transport=transport) as client:
        cache = JwksCache(
            issuer="https://issuer.test",
            jwks_url="https://issuer.test/jwks",
            http_client=client,
            policy=replace(UNIT_POLICY, max_response_bytes=16 * 1024),
        )
        with pytest.raises(JwksFetchError, match="byte limit"):
            await cache.refresh()

    assert chunks_sent < 1000


async def test_deeply_nested_json_is_a_failed_fetch_that_keeps_the_last_good_keys(keys: Keys) -> None:
    bodies = [json.dumps({"keys": [keys.a.public_jwk]}).encode(), b"[" * 100_000]
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=bodies.pop(0)))
    async with httpx.AsyncClient(transport=transport) as client:
        cache = JwksCache(
            issuer="https://issuer.test", jwks_url="https://issuer.test/jwks", http_client=client
        )
        await cache.refresh()
        with pytest.raises(JwksFetchError):
            await cache.refresh()

        assert (await cache.get_signing_key(keys.a.kid)).kid == keys.a.kid


# -- keys that must never be used -----------------------------------------------------------------


def _as_encryption_key(key: KeyPair) -> dict[str, Any]:
    return {**key.public_jwk, "use": "enc"}


def _with_private_part(key: KeyPair) -> dict[str, Any]:
    private = jwt.algorithms.RSAAlgorithm.to_jwk(key.private_key, as_dict=True)
    return {**private, "kid": key.kid, "use": "sig", "alg": key.algorithm}


@pytest.mark.parametrize(
    "publish",
    [
        pytest.param(_as_encryption_key, id="use enc"),
        pytest.param(_with_private_part, id="private part d published"),
    ],
)
async def test_token_signed_by_an_unusable_published_key_is_refused(
    issuer: Issuer,
    start_service: Callable[..., Awaitable[Service]],
    keys: Keys,
    publish: Callable[[KeyPair], dict[str, Any]],
) -> None:
    issuer.endpoint.keys.append(publish(keys.b))
    service = await start_service(issuer)

    result = await refusal(service.auth, issuer.token(keys.b))

    assert (result.code, result.reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNKNOWN_SIGNING_KEY")


async def test_key_declaring_alg_none_is_skipped_and_the_other_keys_are_used(
    issuer: Issuer, new_cache: Callable[..., JwksCache], keys: Keys
) -> None:
    issuer.endpoint.keys.append({**keys.b.public_jwk, "alg": "none"})
    cache = new_cache()
    await cache.refresh()

    assert (await cache.get_signing_key(keys.a.kid)).kid == keys.a.kid
