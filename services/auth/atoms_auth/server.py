"""AuthServer: builds the auth service from its settings, runs it, and stops it gracefully.

Construction order (and reverse order on stop): HTTP client for JWKS -> key caches ->
validator -> gRPC host -> metrics endpoint -> key maintenance task. Health stays
NOT_SERVING until every trusted issuer's keys are loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import grpc
import httpx

from atoms.auth.v1 import auth_pb2, auth_pb2_grpc
from atoms_auth import metrics
from atoms_auth.caller_policy import CallerPolicyInterceptor
from atoms_auth.envoy_authorization import ENVOY_AUTHORIZATION_SERVICE_NAME, EnvoyAuthorizationServicer
from atoms_auth.internal_tokens import InternalTokenRegistry
from atoms_auth.jwks_cache import JwksCache, JwksFetchError
from atoms_auth.jwt_verifier import JwtVerifier
from atoms_auth.servicer import AuthServicer
from atoms_auth.settings import AuthSettings, CallerAllowList
from atoms_auth.token_cache import VerifiedTokenCache
from atoms_auth.token_validator import TokenValidator
from atoms_grpc.grpc_service import standard_interceptors
from atoms_grpc.grpc_service_host import GrpcServiceHost
from atoms_grpc.service_metrics import MetricsEndpoint
from atoms_grpc.service_runner import run_until_signalled
from atoms_grpc.tracing import instrument_httpx_client

logger = logging.getLogger(__name__)

AUTH_SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
_MAINTENANCE_INTERVAL_S = 15.0
_WARMUP_RETRY_MAX_S = 10.0


class AuthServer:
    """One running auth service: its gRPC server, key caches and metrics endpoint."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        http_client: httpx.AsyncClient | None = None,
        reuse_port: bool = False,
    ) -> None:
        """Build every part; nothing listens until `start()`.

        Args:
            settings: validated settings.
            http_client: client for JWKS fetches; when given, the caller owns its lifecycle.
            reuse_port: share the port with other worker processes (SO_REUSEPORT; `--workers`).
        """
        self.settings = settings
        self._owns_http_client = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(settings.jwks.fetch_timeout_s),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=20),
            headers={"user-agent": "atoms-auth/0.1"},
        )
        if self._owns_http_client:
            instrument_httpx_client(self._http)  # with tracing on: a CLIENT span per JWKS fetch
        self.key_caches = _build_key_caches(settings, self._http)
        internal_tokens = InternalTokenRegistry(settings.internal_tokens)
        validator = TokenValidator(
            internal_tokens=internal_tokens,
            jwt_verifier=JwtVerifier(
                issuers={issuer.issuer: issuer for issuer in settings.issuers},
                key_caches={i.issuer: self.key_caches[i.jwks_url] for i in settings.issuers},
                first_party_client_ids=frozenset(settings.first_party_client_ids),
            ),
            token_cache=VerifiedTokenCache(
                max_entries=settings.token_cache.max_entries, ttl_s=settings.token_cache.ttl_s
            ),
            max_token_bytes=settings.max_token_bytes,
        )
        servicer = AuthServicer(validator=validator)
        envoy_servicer = EnvoyAuthorizationServicer(
            validator=validator, remove_authorization=settings.envoy_remove_authorization
        )
        self.host = GrpcServiceHost(
            service_names=[AUTH_SERVICE_NAME, ENVOY_AUTHORIZATION_SERVICE_NAME],
            registrations=[
                lambda server: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server),
                envoy_servicer.add_to_server,
            ],
            interceptors=_interceptors(settings, internal_tokens),
            max_message_bytes=max(256 * 1024, settings.max_token_bytes * 32),
            reuse_port=reuse_port,
            tls=settings.tls,
        )
        self._metrics = (
            MetricsEndpoint(host=settings.metrics_host, port=settings.metrics_port)
            if settings.metrics_port is not None
            else None
        )
        self._maintenance: asyncio.Task[None] | None = None
        self.port: int | None = None
        self.metrics_port: int | None = None
        self._stopped = False

    async def start(self) -> int:
        """Listen, start warming the key caches in the background, and return the gRPC port.

        Raises:
            ListenError: the gRPC or the metrics port could not be bound; what was already
                started is stopped first.
        """
        try:
            self.port = await self.host.start(f"{self.settings.host}:{self.settings.port}")
            if self._metrics is not None:
                self.metrics_port = self._metrics.start()
        except BaseException:
            await self.stop()  # a half-started server must not keep its port and threads
            raise
        self._maintenance = asyncio.get_running_loop().create_task(self._maintain_keys())
        logger.info(
            "auth service started: %d trusted issuer(s), %d internal token(s), event loop %s",
            len(self.settings.issuers),
            len(self.settings.internal_tokens),
            type(asyncio.get_running_loop()).__module__,
            extra={"grpc_port": self.port, "metrics_port": self.metrics_port},
        )
        return self.port

    @property
    def is_ready(self) -> bool:
        """True when every trusted issuer's keys are loaded."""
        return all(cache.is_ready for cache in self.key_caches.values())

    async def stop(self) -> None:
        """Go NOT_SERVING, finish in-flight RPCs within the grace period, then release everything.

        Calling it again does nothing.
        """
        if self._stopped:
            return
        self._stopped = True
        try:
            if self._maintenance is not None:
                self._maintenance.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._maintenance
        finally:
            await self.host.stop(self.settings.shutdown_grace_s)
            for cache in self.key_caches.values():
                await cache.close()
            if self._metrics is not None:
                self._metrics.stop()
            if self._owns_http_client:
                await self._http.aclose()

    async def _maintain_keys(self) -> None:
        """Warm the caches with backoff, keep health in step with readiness, publish key ages."""
        retry_s = 0.25
        while True:
            for cache in self.key_caches.values():
                if not cache.is_fresh:
                    await _refresh_quietly(cache)
                age = cache.key_age_s
                if age is not None:
                    metrics.JWKS_KEY_AGE.labels(cache.issuer).set(age)
            ready = self.is_ready
            await self.host.set_serving(ready)
            retry_s = _MAINTENANCE_INTERVAL_S if ready else min(retry_s * 2, _WARMUP_RETRY_MAX_S)
            await asyncio.sleep(retry_s)


async def _refresh_quietly(cache: JwksCache) -> None:
    """Refresh one cache; a failure is logged by the cache and must never end the maintenance loop."""
    try:
        await cache.refresh()
    except JwksFetchError:
        pass
    except Exception:
        logger.exception("unexpected error refreshing the keys of %s", cache.issuer)


def _interceptors(
    settings: AuthSettings, internal_tokens: InternalTokenRegistry
) -> tuple[grpc.aio.ServerInterceptor, ...]:
    # The kit's chain without authentication (the auth service has no one to ask): tracing
    # when on (the caller's `traceparent`, Envoy's for Check), request id, access log, status mapping.
    chain = list(standard_interceptors(None, audience=""))
    allowed = CallerAllowList.parse(settings.allowed_callers)
    if allowed.enabled:
        chain.append(CallerPolicyInterceptor(allowed, internal_tokens))  # inside: its refusals are mapped
    return tuple(chain)


def _build_key_caches(settings: AuthSettings, http_client: httpx.AsyncClient) -> dict[str, JwksCache]:
    caches: dict[str, JwksCache] = {}
    for issuer in settings.issuers:
        if issuer.jwks_url not in caches:
            caches[issuer.jwks_url] = JwksCache(
                issuer=issuer.issuer, jwks_url=issuer.jwks_url, http_client=http_client, policy=settings.jwks
            )
    return caches


async def serve(settings: AuthSettings, *, reuse_port: bool = False) -> None:
    """Run the auth service until SIGINT or SIGTERM, then stop gracefully."""
    server = AuthServer(settings, reuse_port=reuse_port)
    await run_until_signalled(server, name="auth service", grace_s=settings.shutdown_grace_s)
