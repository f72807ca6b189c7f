"""Prometheus metrics of an HTTP face: requests by route, method, status and reason, and latency.

`HttpFaceMiddleware` records them for the agent's HTTP face and the Atoms MCP. The route label
is the matched route's template (`/v1/chat/completions`, never the raw path); a request answered
before routing (an authentication middleware's refusal) is labelled with its path when that
path is one of the face's known paths, else `unmatched`, so a scan of random paths cannot grow
the label set. The reason is what the app stored with `record_error_reason(scope, reason)` (an
ErrorInfo-style reason), else empty. The duration runs until the response has been sent, so a
streamed answer counts whole.
"""

from __future__ import annotations

from collections.abc import Collection, MutableMapping
from typing import Any

from prometheus_client import Counter, Histogram

Scope = MutableMapping[str, Any]

HTTP_REQUESTS = Counter(
    "atoms_http_requests",
    "HTTP requests answered, by service, route template, method, status code and error reason.",
    ["service", "route", "method", "status", "reason"],
)
HTTP_LATENCY = Histogram(
    "atoms_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response (a stream counts whole).",
    ["service", "route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
UNMATCHED_ROUTE = "unmatched"
_REASON_KEY = "atoms_error_reason"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_MAX_REASON_CHARS = 64


def record_error_reason(scope: Scope, reason: str) -> None:
    """Name the reason of the error response the app is about to send (for the metrics)."""
    scope.setdefault("state", {})[_REASON_KEY] = reason[:_MAX_REASON_CHARS]


def error_reason_of(scope: Scope) -> str:
    """The reason the app recorded for its error response, or ""."""
    return str(scope.get("state", {}).get(_REASON_KEY, ""))


def route_of(scope: Scope, known_paths: Collection[str]) -> str:
    """The request's route label: the matched template, a known path, or `unmatched`."""
    template = getattr(scope.get("route"), "path", None)
    if template:
        return str(template)
    path = scope.get("path", "")
    return path if path in known_paths else UNMATCHED_ROUTE


def record_http_request(service: str, scope: Scope, route: str, status: int, elapsed_s: float) -> None:
    """Count one answered request and observe its duration."""
    method = scope.get("method", "")
    method = method if method in _METHODS else "OTHER"
    HTTP_REQUESTS.labels(service, route, method, str(status), error_reason_of(scope)).inc()
    HTTP_LATENCY.labels(service, route, method).observe(elapsed_s)
