"""Tracing on the hot path: the switch every hop reads, and what each hop adds to its spans.

`tracing_setup.start_tracing()` turns tracing on for the process (from the standard `OTEL_*`
variables); until then, and for a process that never calls it, every function here costs one
boolean test: no interceptor is added, no ASGI middleware wraps an app, no span attribute is
set. When tracing is on, the community OpenTelemetry instrumentations do the propagation:
- gRPC servers: `opentelemetry-instrumentation-grpc`'s aio server interceptor, outermost in
  the chain, takes `traceparent` from the metadata and opens the RPC's SERVER span;
- gRPC clients (the kit's auth client): its aio client interceptors open a CLIENT span and
  put the span's `traceparent` in the metadata;
- HTTP faces (the agent's, the Atoms MCP): `opentelemetry-instrumentation-asgi` middleware;
- the Atoms MCP's tools: FastMCP's own spans, under the HTTP span.

What a span may carry is what an operator needs and nothing secret: service, method, status,
the error reason, cache hit or miss, a token's fingerprint (`token_fingerprint`), never a
token. No header is recorded unless an operator names it in
OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*, and then Authorization and cookies are redacted.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry import propagate, trace

if TYPE_CHECKING:
    from starlette.applications import Starlette

# Span attribute names of our own (the rest follow OpenTelemetry's semantic conventions).
ERROR_REASON = "atoms.error.reason"
TOKEN_FINGERPRINT = "atoms.token.fingerprint"  # noqa: S105 (an attribute name)
AUTH_CLIENT_CACHE = "atoms.auth_client.cache"
AUTH_TOKEN_CACHE = "atoms.auth.token_cache"  # noqa: S105 (an attribute name)
PRINCIPAL_KIND = "atoms.principal.kind"
REQUEST_ID = "atoms.request_id"

TRACER_NAME = "atoms"

# Headers the ASGI middleware must never record, even when an operator asks it to capture
# request or response headers (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*).
_SECRET_HEADERS = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"]

_enabled = False


def tracing_enabled() -> bool:
    """Whether this process records and propagates traces."""
    return _enabled


def set_tracing_enabled(enabled: bool) -> None:
    """Flip the switch; only `tracing_setup` calls this (and tests)."""
    global _enabled  # one process-wide switch, read on every request
    _enabled = enabled


def annotate_span(attributes: Mapping[str, str | int | bool]) -> None:
    """Add attributes to the current span (nothing when tracing is off or no span is recording)."""
    if not _enabled:
        return
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(attributes)


def current_trace_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span in hex, for log lines; None without one."""
    if not _enabled:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def inject_trace_headers(headers: MutableMapping[str, str]) -> None:
    """Write the current span's `traceparent` (and `tracestate`) into outgoing headers."""
    if _enabled:
        propagate.inject(headers)


def tracer() -> trace.Tracer:
    """The tracer of the Atoms code's own spans (the instrumentations have theirs)."""
    return trace.get_tracer(TRACER_NAME)


def server_interceptors() -> tuple[grpc.aio.ServerInterceptor, ...]:
    """The tracing interceptor to put outermost in a gRPC server's chain; () when off.

    Health checks and reflection have no spans: probes every few seconds would bury the
    traces of real calls.
    """
    if not _enabled:
        return ()
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return (aio_server_interceptor(filter_=_not_a_probe),)  # type: ignore[no-untyped-call]


def client_interceptors() -> Sequence[grpc.aio.ClientInterceptor]:
    """The tracing interceptors of a gRPC client channel (health checks untraced); () when off."""
    if not _enabled:
        return ()
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return tuple(aio_client_interceptors(filter_=_not_a_probe))  # type: ignore[no-untyped-call]


_PROBE_PREFIXES = ("/grpc.health.", "/grpc.reflection.")


def _not_a_probe(call_details: Any) -> bool:
    """Whether an RPC is traced: all but health and reflection.

    One `startswith` per RPC: the instrumentation's own filter combinators cost several
    microseconds per call (they split the method name through nested closures).
    """
    method = call_details.method
    if isinstance(method, bytes):  # grpc gives the client side bytes (grpc/grpc#31092)
        method = method.decode("ascii", "replace")
    return not str(method).startswith(_PROBE_PREFIXES)


def add_tracing_middleware(
    app: Starlette, *, known_paths: Sequence[str] = (), tracer_provider: Any = None
) -> None:
    """Put OpenTelemetry's ASGI middleware outermost in `app` (a SERVER span per request); no-op when off.

    The span is named by method and path for `known_paths`, by method alone otherwise (a scan
    of random paths must not make new span names); `HttpFaceMiddleware` renames it after the
    matched route. Headers are recorded only when OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*
    names them, and Authorization and cookies then as `[REDACTED]`. `tracer_provider`: the
    global one unless given (tests).
    """
    if not _enabled:
        return
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    known = frozenset(known_paths)

    def span_details(scope: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        method = str(scope.get("method", "HTTP"))
        path = str(scope.get("path", ""))
        return (f"{method} {path}" if path in known else method), {}

    app.add_middleware(
        OpenTelemetryMiddleware,
        default_span_details=span_details,
        http_capture_headers_sanitize_fields=_SECRET_HEADERS,
        exclude_spans=["receive", "send"],
        tracer_provider=tracer_provider,
    )


def instrument_httpx_client(client: Any) -> None:
    """Give an `httpx.AsyncClient` to an operator-chosen upstream (the model, a JWKS) CLIENT spans.

    OpenTelemetry's httpx instrumentation: a span per request with its method, host and status,
    and the `traceparent` header. Not for servers users register: they get no trace context.
    """
    if not _enabled:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client)


def name_server_span(name: str, attributes: Mapping[str, str | int | bool]) -> None:
    """Rename the current SERVER span (an HTTP face's, after routing) and add attributes."""
    if not _enabled:
        return
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(name)
        span.set_attributes(attributes)


__all__ = [
    "AUTH_CLIENT_CACHE",
    "AUTH_TOKEN_CACHE",
    "ERROR_REASON",
    "PRINCIPAL_KIND",
    "REQUEST_ID",
    "TOKEN_FINGERPRINT",
    "add_tracing_middleware",
    "annotate_span",
    "client_interceptors",
    "current_trace_ids",
    "inject_trace_headers",
    "instrument_httpx_client",
    "name_server_span",
    "server_interceptors",
    "set_tracing_enabled",
    "tracer",
    "tracing_enabled",
]
