"""Prometheus metrics every Atoms gRPC service exports, and the HTTP endpoint that serves them."""

from __future__ import annotations

import logging
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Histogram, start_http_server

from atoms_grpc.listen_sockets import FACE_METRICS, ListenError

logger = logging.getLogger(__name__)

RPC_HANDLED = Counter(
    "atoms_grpc_server_handled",
    "RPCs completed, by method, status code and ErrorInfo reason.",
    ["grpc_service", "grpc_method", "grpc_code", "reason"],
)
RPC_LATENCY = Histogram(
    "atoms_grpc_server_handling_seconds",
    "Time to handle an RPC, from the first interceptor to the final status.",
    ["grpc_service", "grpc_method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


# Methods and reasons are few (registered methods, documented reasons); the bound only stops
# a bug from growing the cache without limit (the metrics themselves are unbounded anyway).
_MAX_BOUND_CHILDREN = 4096


def split_method(method: str) -> tuple[str, str]:
    """Split `/package.Service/Method` into ("package.Service", "Method")."""
    _, _, rest = method.partition("/")
    service, _, name = rest.partition("/")
    return service or "unknown", name or "unknown"


class RpcMetrics:
    """Records one RPC in `RPC_HANDLED` and `RPC_LATENCY` through pre-bound children.

    `Metric.labels(...)` validates the values, builds a tuple and takes a lock on every
    call; an RPC server calls it twice per RPC. The children are looked up once per method
    and outcome and kept here.
    """

    def __init__(self) -> None:
        self._latency: dict[str, Histogram] = {}
        self._handled: dict[tuple[str, str, str], Counter] = {}

    def record(self, method: str, code_name: str, reason: str, elapsed_s: float) -> None:
        """Count the RPC by method, code and reason, and observe its duration."""
        handled = self._handled.get((method, code_name, reason))
        if handled is None:
            service, name = split_method(method)
            handled = RPC_HANDLED.labels(service, name, code_name, reason)
            if len(self._handled) < _MAX_BOUND_CHILDREN:
                self._handled[(method, code_name, reason)] = handled
        latency = self._latency.get(method)
        if latency is None:
            latency = RPC_LATENCY.labels(*split_method(method))
            if len(self._latency) < _MAX_BOUND_CHILDREN:
                self._latency[method] = latency
        handled.inc()
        latency.observe(elapsed_s)


class MetricsEndpoint:
    """The `/metrics` HTTP endpoint on its own thread (prometheus-client's standard server)."""

    def __init__(self, *, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        if self._server is None:
            raise RuntimeError("metrics endpoint is not started")
        return int(self._server.server_port)

    def start(self) -> int:
        """Start serving and return the bound port.

        Raises:
            ListenError: the port is in use or the address cannot be bound.
        """
        try:
            self._server, self._thread = start_http_server(self._port, addr=self._host)
        except OSError as err:
            raise ListenError.from_os_error(err, face=FACE_METRICS, host=self._host, port=self._port) from err
        logger.info("metrics served at http://%s:%d/metrics", self._host, self.port)
        return self.port

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
