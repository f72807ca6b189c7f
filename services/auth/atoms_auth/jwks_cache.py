"""JwksCache: one issuer's signing keys, fetched with an async client and kept safely.

Hazards this module exists to prevent:
- blocking the event loop (PyJWT's PyJWKClient uses urllib): fetches use httpx.AsyncClient;
- an issuer flood through random `kid`s: kid-triggered refetches are single-flight, at most one
  per cooldown, and unknown kids are remembered for a while (negative cache);
- an issuer outage logging everyone out: a failed refresh never replaces the last good keys
  (stale-if-error, up to `max_stale_s`);
- a refresh dying with the request that triggered it: refreshes run in their own task and
  callers wait on it through `asyncio.shield`;
- a hostile or broken JWKS endpoint: no redirects, a total time limit, a byte limit and a key
  count limit;
- a key nobody should sign with: encryption keys, published private keys and RSA keys under
  MIN_RSA_KEY_BITS are skipped, so a token signed with one is refused as an unknown key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from atoms_auth import metrics
from atoms_auth.errors import JwksUnavailableError, UnknownSigningKeyError

logger = logging.getLogger(__name__)

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)

MIN_RSA_KEY_BITS = 2048
"""Shorter RSA keys are skipped when a key set is loaded (NIST SP 800-131A)."""


@dataclass(frozen=True, slots=True)
class JwksCachePolicy:
    """Time and size bounds of a JwksCache (seconds and bytes)."""

    default_ttl_s: float = 600.0
    min_ttl_s: float = 60.0
    max_ttl_s: float = 86_400.0
    refresh_cooldown_s: float = 10.0
    failure_retry_s: float = 2.0
    unknown_kid_ttl_s: float = 60.0
    unknown_kid_max_entries: int = 10_000
    fetch_timeout_s: float = 5.0
    max_response_bytes: int = 256 * 1024
    max_keys: int = 64
    max_stale_s: float = 86_400.0


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A published public key and the algorithm its JWK declares (None when it declares none)."""

    jwk: jwt.PyJWK
    declared_alg: str | None

    @property
    def kid(self) -> str | None:
        """The key id, or None when the JWK has none."""
        return None if self.jwk.key_id is None else str(self.jwk.key_id)


class JwksFetchError(Exception):
    """The JWKS endpoint did not give a usable key set (the message says why, without secrets)."""


@dataclass(frozen=True, slots=True)
class _KeySet:
    by_kid: dict[str, SigningKey]
    all_keys: tuple[SigningKey, ...]
    fetched_at: float
    expires_at: float


class JwksCache:
    """Signing keys of one issuer, refreshed on TTL expiry and on unknown `kid`."""

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str,
        http_client: httpx.AsyncClient,
        policy: JwksCachePolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create an empty cache; call `refresh()` to warm it.

        Args:
            issuer: the issuer these keys sign for (used in logs and metrics).
            jwks_url: where the key set is published.
            http_client: shared client; the caller owns its lifecycle.
            policy: time and size bounds.
            clock: monotonic clock, injectable for tests.
        """
        self.issuer = issuer
        self.jwks_url = jwks_url
        self._http = http_client
        self._policy = policy or JwksCachePolicy()
        self._clock = clock
        self._keys: _KeySet | None = None
        self._refresh_task: asyncio.Task[_KeySet] | None = None
        self._last_attempt_at = float("-inf")
        self._last_failure_at = float("-inf")
        self._unknown_kids: OrderedDict[str, float] = OrderedDict()

    @property
    def is_ready(self) -> bool:
        """True when keys are loaded and not older than `max_stale_s`."""
        keys = self._keys
        return keys is not None and self._clock() - keys.fetched_at <= self._policy.max_stale_s

    @property
    def is_fresh(self) -> bool:
        """True when keys are loaded and their TTL has not run out."""
        keys = self._keys
        return keys is not None and self._clock() < keys.expires_at

    @property
    def key_age_s(self) -> float | None:
        """Seconds since the keys in use were fetched, or None before the first fetch."""
        return None if self._keys is None else self._clock() - self._keys.fetched_at

    async def close(self) -> None:
        """Cancel a fetch under way (at shutdown, after the last RPC)."""
        task = self._refresh_task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, JwksFetchError):
                await task

    async def refresh(self) -> None:
        """Fetch the key set now (joining a fetch already under way).

        Raises:
            JwksFetchError: the fetch failed; the last good keys are kept.
        """
        await self._shared_refresh()

    async def get_signing_key(self, kid: str | None) -> SigningKey:
        """Return the published key for `kid` (or the only key when the token names none).

        Raises:
            JwksUnavailableError: no usable keys and none could be fetched.
            UnknownSigningKeyError: the issuer publishes no such key.
        """
        keys = await self._usable_keys()
        key = self._select(keys, kid)
        if key is not None:
            return key
        if kid is None:
            raise UnknownSigningKeyError(
                f"token has no kid and the issuer publishes {len(keys.all_keys)} keys"
            )
        return await self._refetch_for_unknown_kid(kid)

    async def _usable_keys(self) -> _KeySet:
        keys, now = self._keys, self._clock()
        if keys is not None and now < keys.expires_at:
            return keys
        if keys is not None and now - keys.fetched_at <= self._policy.max_stale_s:
            # Serve the expired-but-recent keys now; refresh in the background.
            if self._may_retry(now):
                self._start_refresh()
            return keys
        if not self._may_retry(now) and self._refresh_task is None:
            raise JwksUnavailableError("signing keys for the token's issuer are unavailable; retry later")
        try:
            return await self._shared_refresh()
        except JwksFetchError as err:
            raise JwksUnavailableError(
                "signing keys for the token's issuer are unavailable; retry later"
            ) from err

    async def _refetch_for_unknown_kid(self, kid: str) -> SigningKey:
        now = self._clock()
        self._forget_expired_unknown_kids(now)
        in_flight = self._refresh_task is not None
        if kid in self._unknown_kids or not (
            in_flight or now - self._last_attempt_at >= self._policy.refresh_cooldown_s
        ):
            metrics.JWKS_UNKNOWN_KID_REJECTED.labels(self.issuer).inc()
            raise UnknownSigningKeyError("the issuer publishes no key with the token's kid")
        try:
            keys = await self._shared_refresh()
        except JwksFetchError as err:
            raise JwksUnavailableError(
                "the token's key is not cached and the issuer's keys cannot be fetched; retry later"
            ) from err
        key = self._select(keys, kid)
        if key is None:
            self._remember_unknown_kid(kid, now)
            raise UnknownSigningKeyError("the issuer publishes no key with the token's kid")
        return key

    @staticmethod
    def _select(keys: _KeySet, kid: str | None) -> SigningKey | None:
        if kid is None:
            return keys.all_keys[0] if len(keys.all_keys) == 1 else None
        return keys.by_kid.get(kid)

    def _may_retry(self, now: float) -> bool:
        return now - self._last_failure_at >= self._policy.failure_retry_s

    def _remember_unknown_kid(self, kid: str, now: float) -> None:
        self._unknown_kids[kid] = now + self._policy.unknown_kid_ttl_s
        self._unknown_kids.move_to_end(kid)
        while len(self._unknown_kids) > self._policy.unknown_kid_max_entries:
            self._unknown_kids.popitem(last=False)

    def _forget_expired_unknown_kids(self, now: float) -> None:
        while self._unknown_kids:
            kid, expires_at = next(iter(self._unknown_kids.items()))
            if expires_at > now:
                return
            del self._unknown_kids[kid]

    async def _shared_refresh(self) -> _KeySet:
        task = self._start_refresh()
        # shield: a caller's cancellation (deadline, disconnect) must not cancel the shared fetch.
        return await asyncio.shield(task)

    def _start_refresh(self) -> asyncio.Task[_KeySet]:
        if self._refresh_task is None:
            self._last_attempt_at = self._clock()
            task = asyncio.get_running_loop().create_task(self._fetch_and_store())
            task.add_done_callback(self._on_refresh_done)
            self._refresh_task = task
        return self._refresh_task

    def _on_refresh_done(self, task: asyncio.Task[_KeySet]) -> None:
        self._refresh_task = None
        if not task.cancelled() and task.exception() is not None:
            self._last_failure_at = self._clock()

    async def _fetch_and_store(self) -> _KeySet:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._policy.fetch_timeout_s):
                keys, ttl_s = await self._fetch()
        except Exception as err:
            # Whatever a hostile or broken endpoint makes happen, it is a failed fetch: the
            # last good keys stay, and no caller sees anything but JwksFetchError.
            metrics.JWKS_FETCHES.labels(self.issuer, "error").inc()
            reason = str(err) if isinstance(err, JwksFetchError) else type(err).__name__
            logger.warning(
                "JWKS fetch failed for issuer %s: %s; keeping %s",
                self.issuer,
                reason,
                "last good keys" if self._keys else "no keys (none loaded yet)",
            )
            raise JwksFetchError(reason) from err
        now = self._clock()
        key_set = _KeySet(
            by_kid={k.kid: k for k in keys if k.kid is not None},
            all_keys=tuple(keys),
            fetched_at=now,
            expires_at=now + ttl_s,
        )
        self._keys = key_set  # only a successful fetch replaces the keys
        metrics.JWKS_FETCHES.labels(self.issuer, "ok").inc()
        metrics.JWKS_KEYS.labels(self.issuer).set(len(keys))
        logger.info(
            "JWKS fetched for issuer %s: %d keys, ttl %.0fs, %.1f ms",
            self.issuer,
            len(keys),
            ttl_s,
            (time.perf_counter() - started) * 1000,
        )
        return key_set

    async def _fetch(self) -> tuple[list[SigningKey], float]:
        async with self._http.stream("GET", self.jwks_url, follow_redirects=False) as response:
            if response.status_code != 200:
                raise JwksFetchError(f"HTTP {response.status_code} from the JWKS endpoint")
            body = await self._read_bounded(response)
            ttl_s = self._ttl_from(response.headers.get("cache-control", ""))
        return self._parse(body), ttl_s

    async def _read_bounded(self, response: httpx.Response) -> bytes:
        limit = self._policy.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise JwksFetchError(f"JWKS response of {declared} bytes exceeds the {limit}-byte limit")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise JwksFetchError(f"JWKS response exceeds the {limit}-byte limit")
        return bytes(body)

    def _ttl_from(self, cache_control: str) -> float:
        policy = self._policy
        lowered = cache_control.lower()
        if "no-store" in lowered or "no-cache" in lowered:
            return policy.min_ttl_s
        match = _MAX_AGE.search(cache_control)
        ttl = float(match.group(1)) if match else policy.default_ttl_s
        return min(max(ttl, policy.min_ttl_s), policy.max_ttl_s)

    def _parse(self, body: bytes) -> list[SigningKey]:
        try:
            document: Any = json.loads(body)
        except (ValueError, RecursionError) as err:  # RecursionError: deeply nested JSON
            raise JwksFetchError("JWKS response is not valid JSON") from err
        raw_keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(raw_keys, list):
            raise JwksFetchError('JWKS response has no "keys" list')
        if len(raw_keys) > self._policy.max_keys:
            raise JwksFetchError(
                f"JWKS response has {len(raw_keys)} keys; the limit is {self._policy.max_keys}"
            )
        keys = [key for raw in raw_keys if (key := self._parse_key(raw)) is not None]
        if not keys:
            raise JwksFetchError("JWKS response has no usable signing key")
        return keys

    def _parse_key(self, raw: object) -> SigningKey | None:
        if not isinstance(raw, dict) or raw.get("use", "sig") != "sig":
            return None
        if "d" in raw:
            # A published private key means a broken issuer; never use it.
            logger.warning("issuer %s publishes a private key (kid %r); ignored", self.issuer, raw.get("kid"))
            return None
        try:
            jwk = jwt.PyJWK(raw)
        except Exception as err:  # PyJWK raises several types (NotImplementedError for alg "none")
            logger.warning(
                "issuer %s publishes an unusable key (kid %r): %s",
                self.issuer,
                raw.get("kid"),
                type(err).__name__,
            )
            return None
        if isinstance(jwk.key, rsa.RSAPublicKey) and jwk.key.key_size < MIN_RSA_KEY_BITS:
            logger.warning(
                "issuer %s publishes a %d-bit RSA key (kid %r); keys under %d bits are ignored",
                self.issuer,
                jwk.key.key_size,
                raw.get("kid"),
                MIN_RSA_KEY_BITS,
            )
            return None
        alg = raw.get("alg")
        return SigningKey(jwk=jwk, declared_alg=alg if isinstance(alg, str) else None)
