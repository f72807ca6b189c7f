"""Readiness: whether a service should take new traffic now, and if not, why.

Liveness ("is the process working?") and readiness ("should it get requests?") are kept
apart: a service whose auth service is unreachable is alive (restarting it fixes nothing)
but not ready. Both faces report the same value: gRPC health per service name, and
`GET /ready` on an HTTP face (`as_json()` is its body).
"""

from __future__ import annotations

from dataclasses import dataclass

STARTING = "STARTING"
SHUTTING_DOWN = "SHUTTING_DOWN"
AUTH_SERVICE_UNAVAILABLE = "AUTH_SERVICE_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Readiness:
    """Ready, or not ready for a documented `reason` (STARTING, SHUTTING_DOWN, AUTH_SERVICE_UNAVAILABLE, ...).

    `detail` is a short sentence for operators; it names no secret.
    """

    ready: bool
    reason: str = ""
    detail: str = ""

    @classmethod
    def not_ready(cls, reason: str, detail: str) -> Readiness:
        """A refusal to take traffic, with its reason."""
        return cls(ready=False, reason=reason, detail=detail)

    def as_json(self) -> dict[str, str]:
        """The body of `GET /ready`: `{"status": "ok"}` or `{"status": "unavailable", "reason", "detail"}`."""
        if self.ready:
            return {"status": "ok"}
        return {"status": "unavailable", "reason": self.reason, "detail": self.detail}


READY = Readiness(ready=True)
