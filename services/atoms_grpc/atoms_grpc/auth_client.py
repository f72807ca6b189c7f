"""AuthClient: how every Atoms service asks the auth service who a caller is.

One long-lived channel; a small bounded cache of positive answers that never outlives the
token; retries with exponential backoff and jitter on a transport UNAVAILABLE, within the
caller's deadline. Refusals are never cached and never retried.

Reaching the auth service has its own short budget (`unreachable_budget_s`), however long
the caller's deadline: while the channel cannot connect, or keeps failing at the transport,
a validation gives up within that budget with UNAVAILABLE / AUTH_SERVICE_UNAVAILABLE and a
retry hint, instead of waiting out a 60 s deadline and ending as DEADLINE_EXCEEDED. Once
connected, a slow answer may use the caller's whole deadline. `check_health()` asks the
auth service's `grpc.health.v1` over the same channel (readiness, `AuthServiceMonitor`).

Metrics (`auth_client_metrics`): `atoms_auth_client_cache_lookups_total{result}` counts each
validation's cache lookup (hit, miss); `atoms_auth_client_calls_total{outcome}` counts each
validation that went to the auth service: ok, refused (its error status, passed on as
`RemoteServiceError`), or unavailable (`AuthServiceUnavailableError`).

With tracing on, the current span says whether the answer came from the cache
(`atoms.auth_client.cache`: hit or miss), and a miss has a ValidateToken CLIENT span: a
cached call has no span in the auth service.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
import math
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_grpc.auth_client_metrics import (
    CACHE_HIT,
    CACHE_MISS,
    CALL_OK,
    CALL_REFUSED,
    CALL_UNAVAILABLE,
)
from atoms_grpc.auth_errors import AuthServiceUnavailableError
from atoms_grpc.principal import Principal
from atoms_grpc.request_context import current_request_id
from atoms_grpc.service_error import RemoteServiceError
from atoms_grpc.tls_config import TlsConfig, open_channel
from atoms_grpc.token_fingerprint import strip_bearer
from atoms_grpc.tracing import AUTH_CLIENT_CACHE, annotate_span, client_interceptors

logger = logging.getLogger(__name__)

_CHANNEL_OPTIONS = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.enable_retries", 0),  # retries are ours: bounded by the caller's deadline
    # Reconnect quickly after an auth service restart instead of gRPC's default 1 s .. 120 s backoff.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2_000),
)


@dataclass(frozen=True, slots=True)
class AuthClientPolicy:
    """Timeouts, retries and cache bounds of an AuthClient (seconds).

    Attributes:
        default_timeout_s: budget of a validation whose caller has no deadline.
        cache_max_entries, cache_ttl_s: positive answers kept (LRU), each until min(`exp`, ttl).
        retry_initial_backoff_s, retry_max_backoff_s: backoff with jitter between transport retries.
        unreachable_budget_s: how long one validation keeps trying to reach an auth service it
            cannot connect to (or that keeps failing at the transport), whatever the caller's deadline.
        unavailable_retry_delay_s: the retry hint (RetryInfo, Retry-After) sent when it gives up.

    Raises:
        ValueError: a bound is not positive (checked on construction).
    """

    default_timeout_s: float = 2.0
    cache_max_entries: int = 10_000
    cache_ttl_s: float = 30.0
    retry_initial_backoff_s: float = 0.05
    retry_max_backoff_s: float = 1.0
    unreachable_budget_s: float = 2.0
    unavailable_retry_delay_s: float = 5.0

    def __post_init__(self) -> None:
        for label in ("default_timeout_s", "unreachable_budget_s", "unavailable_retry_delay_s"):
            value = getattr(self, label)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{label} must be a positive number of seconds, got {value!r}")


class AuthServiceHealth(enum.Enum):
    """What the auth service's `grpc.health.v1` check answered."""

    SERVING = "serving"
    NOT_SERVING = "not_serving"  # it answered, but cannot validate tokens yet (keys) or is draining
    UNREACHABLE = "unreachable"  # no answer: down, refused, or timed out


class AuthClient:
    """An async client of `atoms.auth.v1.AuthService` with a local cache and retries."""

    def __init__(
        self,
        *,
        target: str,
        policy: AuthClientPolicy | None = None,
        channel: grpc.aio.Channel | None = None,
        tls: TlsConfig | None = None,
        caller_token: SecretStr | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Args:
        target: `host:port` of the auth service (ATOMS_AUTH_ADDR).
        policy: timeouts, retries and cache bounds.
        channel: an existing channel (the caller then owns it); by default one is opened on first use.
        tls: TLS (and this process's client certificate) for the channel; plaintext when None.
        caller_token: this service's own internal token, sent as `authorization` metadata so an
            auth service that restricts its callers knows who asks (never the token asked about).
        clock: monotonic clock, injectable for tests.
        """
        self.target = target
        self._policy = policy or AuthClientPolicy()
        self._channel = channel
        self._owns_channel = channel is None
        self._stub: auth_pb2_grpc.AuthServiceStub | None = None
        self._health_stub: health_pb2_grpc.HealthStub | None = None
        self._tls = tls
        self._call_metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {caller_token.get_secret_value()}"),)
            if caller_token is not None
            else ()
        )
        self._clock = clock
        self._cache: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()

    async def validate(
        self,
        token: str,
        *,
        required_scopes: Sequence[str] = (),
        audience: str = "",
        timeout_s: float | None = None,
    ) -> Principal:
        """Return the token's principal.

        Args:
            token: a bare token or an `authorization` value.
            required_scopes: scopes the token must carry.
            audience: the resource the caller acts for (the auth service's audience policy).
            timeout_s: the time left for the whole call, retries included (the caller's deadline).

        Raises:
            RemoteServiceError: the auth service refused the token (its code, reason and domain).
            AuthServiceUnavailableError: the auth service could not be reached in time.
        """
        token = strip_bearer(token)
        key = _cache_key(token, required_scopes, audience)
        cached = self._cached(key)
        if cached is not None:
            CACHE_HIT.inc()
            annotate_span({AUTH_CLIENT_CACHE: "hit"})
            return cached
        CACHE_MISS.inc()
        annotate_span({AUTH_CLIENT_CACHE: "miss"})
        principal = await self._ask(
            auth_pb2.ValidateTokenRequest(token=token, required_scopes=required_scopes, audience=audience),
            timeout_s if timeout_s is not None else self._policy.default_timeout_s,
        )
        self._remember(key, principal)
        return principal

    async def check_health(self, *, timeout_s: float) -> AuthServiceHealth:
        """Ask the auth service's overall `grpc.health.v1` status over this client's channel.

        Never raises for an unreachable service: that is `AuthServiceHealth.UNREACHABLE`.
        """
        if self._health_stub is None:
            self._health_stub = health_pb2_grpc.HealthStub(self._open_channel())
        try:
            reply = await self._health_stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
        except grpc.aio.AioRpcError:
            return AuthServiceHealth.UNREACHABLE
        if reply.status == health_pb2.HealthCheckResponse.SERVING:
            return AuthServiceHealth.SERVING
        return AuthServiceHealth.NOT_SERVING

    async def close(self) -> None:
        """Close the channel if this client opened it."""
        if self._channel is not None and self._owns_channel:
            await self._channel.close()
        self._channel, self._stub, self._health_stub = None, None, None

    def _open_channel(self) -> grpc.aio.Channel:
        if self._channel is None:
            # With tracing on, each ValidateToken has a CLIENT span whose `traceparent` the
            # auth service's SERVER span takes as its parent.
            self._channel = open_channel(
                self.target, self._tls, options=_CHANNEL_OPTIONS, interceptors=client_interceptors()
            )
        return self._channel

    def _metadata_for_call(self) -> tuple[tuple[str, str], ...] | None:
        # The request id of the call being served, so the auth service's log lines carry it too.
        request_id = current_request_id()
        metadata = (*self._call_metadata, ("x-request-id", request_id)) if request_id else self._call_metadata
        return metadata or None

    def _stub_for_call(self) -> auth_pb2_grpc.AuthServiceStub:
        if self._stub is None:
            self._stub = auth_pb2_grpc.AuthServiceStub(self._open_channel())
        return self._stub

    async def _ask(self, request: auth_pb2.ValidateTokenRequest, budget_s: float) -> Principal:
        """Ask the auth service (with retries) and count the outcome."""
        try:
            principal = await self._call_with_retries(request, budget_s)
        except RemoteServiceError:
            CALL_REFUSED.inc()
            raise
        except AuthServiceUnavailableError:
            CALL_UNAVAILABLE.inc()
            raise
        CALL_OK.inc()
        return principal

    async def _call_with_retries(self, request: auth_pb2.ValidateTokenRequest, budget_s: float) -> Principal:
        deadline = self._clock() + budget_s
        give_up_at: float | None = None  # set at the first sign that the auth service cannot be reached
        backoff = self._policy.retry_initial_backoff_s
        attempt = 0
        while True:
            attempt += 1
            stub = self._stub_for_call()
            if self._open_channel().get_state(try_to_connect=True) != grpc.ChannelConnectivity.READY:
                give_up_at = self._give_up_at(deadline) if give_up_at is None else give_up_at
                await self._wait_until_connected(give_up_at)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise self._unavailable("the auth service did not answer within the deadline")
            try:
                response = await stub.ValidateToken(
                    request, timeout=remaining, metadata=self._metadata_for_call()
                )
            except grpc.aio.AioRpcError as err:
                if not _is_transport_failure(err):
                    raise RemoteServiceError.from_rpc_error(err, default_reason=err.code().name) from err
                logger.warning(
                    "auth service %s unreachable (attempt %d): %s", self.target, attempt, err.code().name
                )
                give_up_at = self._give_up_at(deadline) if give_up_at is None else give_up_at
                pause = min(backoff * random.uniform(0.5, 1.0), give_up_at - self._clock())  # noqa: S311
                if pause <= 0:
                    raise self._unavailable("the auth service is unavailable; retry later") from err
                await asyncio.sleep(pause)
                backoff = min(backoff * 2, self._policy.retry_max_backoff_s)
                continue
            return Principal.from_proto(response.principal)

    def _give_up_at(self, deadline: float) -> float:
        # The caller's deadline may be a minute: an unreachable auth service must not take all of it.
        return min(deadline, self._clock() + self._policy.unreachable_budget_s)

    async def _wait_until_connected(self, give_up_at: float) -> None:
        """Wait for a connected channel until `give_up_at`; gRPC reconnects in the background."""
        wait_s = give_up_at - self._clock()
        try:
            if wait_s <= 0:
                raise TimeoutError
            async with asyncio.timeout(wait_s):
                await self._open_channel().channel_ready()
        except TimeoutError:
            logger.warning("auth service %s cannot be reached: no connection", self.target)
            raise self._unavailable("the auth service cannot be reached; retry later") from None

    def _unavailable(self, message: str) -> AuthServiceUnavailableError:
        return AuthServiceUnavailableError(message, retry_delay_s=self._policy.unavailable_retry_delay_s)

    def _cached(self, key: bytes) -> Principal | None:
        entry = self._cache.get(key)
        if entry is None:
            return None
        principal, valid_until = entry
        if self._clock() >= valid_until:
            del self._cache[key]
            return None
        self._cache.move_to_end(key)
        return principal

    def _remember(self, key: bytes, principal: Principal) -> None:
        if self._policy.cache_max_entries <= 0 or self._policy.cache_ttl_s <= 0:
            return
        lifetime = self._policy.cache_ttl_s
        if principal.expires_at is not None:
            lifetime = min(lifetime, principal.expires_at.timestamp() - time.time())
        if lifetime <= 0:
            return
        self._cache[key] = (principal, self._clock() + lifetime)
        self._cache.move_to_end(key)
        while len(self._cache) > self._policy.cache_max_entries:
            self._cache.popitem(last=False)


def _is_transport_failure(err: grpc.aio.AioRpcError) -> bool:
    """UNAVAILABLE without the auth service's ErrorInfo: the service was not reached (safe to retry)."""
    if err.code() != grpc.StatusCode.UNAVAILABLE:
        return False
    return not any(key == "grpc-status-details-bin" for key, _ in (err.trailing_metadata() or ()))


def _cache_key(token: str, required_scopes: Sequence[str], audience: str) -> bytes:
    digest = hashlib.sha256(token.encode("utf-8", "surrogatepass"))
    digest.update(b"\0" + audience.encode() + b"\0" + " ".join(sorted(required_scopes)).encode())
    return digest.digest()
