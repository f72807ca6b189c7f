"""AuthServiceMonitor: whether the auth service can be asked, for a readiness that does not flap.

A service that cannot reach the auth service authenticates nobody (cached answers aside), so
it should take no new traffic: its readiness goes NOT_SERVING. Its liveness must not follow:
restarting it does not bring the auth service back. The monitor asks the auth service's
`grpc.health.v1` every `interval_s` over the AuthClient's own channel (the path validations
take) and changes its verdict only after `failure_threshold` failed checks in a row
(unreachable) or `success_threshold` good ones (reachable again): one lost probe, or a
reconnect to another auth replica, does not flap readiness.

A check fails when the auth service does not answer within `timeout_s` or answers anything but
SERVING (it is warming its keys or draining). The verdict is exported as the gauge
`atoms_auth_service_reachable{target}` (1 or 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import Gauge

from atoms_grpc.auth_client import AuthClient, AuthServiceHealth

logger = logging.getLogger(__name__)

AUTH_SERVICE_REACHABLE = Gauge(
    "atoms_auth_service_reachable",
    "1 while the auth service answers its health check SERVING (after hysteresis), else 0.",
    ["target"],
)

ReachabilityListener = Callable[[bool], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AuthHealthPolicy:
    """How often the auth service is checked, and how many checks in a row change the verdict.

    Raises:
        ValueError: an interval or timeout is not positive, or a threshold is below 1.
    """

    interval_s: float = 2.0
    timeout_s: float = 1.0
    failure_threshold: int = 2
    success_threshold: int = 2

    def __post_init__(self) -> None:
        for label, value in (("interval_s", self.interval_s), ("timeout_s", self.timeout_s)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{label} must be a positive number of seconds, got {value!r}")
        if self.failure_threshold < 1 or self.success_threshold < 1:
            raise ValueError("failure_threshold and success_threshold must be at least 1")


class AuthServiceMonitor:
    """Checks the auth service's health in the background and keeps a verdict with hysteresis."""

    def __init__(
        self,
        *,
        auth_client: AuthClient,
        policy: AuthHealthPolicy | None = None,
        on_change: ReachabilityListener | None = None,
    ) -> None:
        """Args:
        auth_client: the client whose channel is checked; the caller owns it.
        policy: interval, timeout and thresholds.
        on_change: awaited with the new verdict each time it changes (not for the first check).
        """
        self._auth_client = auth_client
        self._policy = policy or AuthHealthPolicy()
        self._on_change = on_change
        self._reachable = False
        self._last = AuthServiceHealth.UNREACHABLE
        self._failures = 0
        self._successes = 0
        self._task: asyncio.Task[None] | None = None
        self._gauge = AUTH_SERVICE_REACHABLE.labels(auth_client.target)

    @property
    def reachable(self) -> bool:
        """The verdict: False before `start()` and while the auth service is considered down."""
        return self._reachable

    @property
    def last_health(self) -> AuthServiceHealth:
        """What the latest check saw (no hysteresis), for messages."""
        return self._last

    @property
    def target(self) -> str:
        """`host:port` of the auth service."""
        return self._auth_client.target

    async def start(self) -> None:
        """Check once (the first verdict, taken as is), then keep checking in the background.

        Raises:
            RuntimeError: the monitor was started before.
        """
        if self._task is not None:
            raise RuntimeError("the auth service monitor can be started only once")
        self._last = await self._check()
        self._set(self._last is AuthServiceHealth.SERVING)
        if not self._reachable:
            logger.warning(
                "the auth service at %s is not available (%s): readiness is NOT_SERVING until it is",
                self.target,
                self._last.value,
            )
        self._task = asyncio.get_running_loop().create_task(self._run(), name="auth-service-monitor")

    async def stop(self) -> None:
        """Stop checking. Calling it again does nothing."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._policy.interval_s)
            await self._observe(await self._check())

    async def _check(self) -> AuthServiceHealth:
        return await self._auth_client.check_health(timeout_s=self._policy.timeout_s)

    async def _observe(self, health: AuthServiceHealth) -> None:
        self._last = health
        if health is AuthServiceHealth.SERVING:
            self._successes, self._failures = self._successes + 1, 0
        else:
            self._successes, self._failures = 0, self._failures + 1
        if self._reachable and self._failures >= self._policy.failure_threshold:
            # WARNING: every uncached request fails while this lasts; the probe takes the replica out.
            logger.warning(
                "the auth service at %s failed %d health checks in a row (%s): readiness is NOT_SERVING",
                self.target,
                self._failures,
                health.value,
            )
            await self._change(reachable=False)
        elif not self._reachable and self._successes >= self._policy.success_threshold:
            logger.info("the auth service at %s is available again: readiness is SERVING", self.target)
            await self._change(reachable=True)

    async def _change(self, *, reachable: bool) -> None:
        self._set(reachable)
        if self._on_change is None:
            return
        try:
            await self._on_change(reachable)
        except Exception:
            # A failing listener must not end the monitoring that readiness depends on.
            logger.exception("a listener of the auth service monitor failed")

    def _set(self, reachable: bool) -> None:
        self._reachable = reachable
        self._gauge.set(1 if reachable else 0)
