"""LoadSpec: what one load run sends, how hard, and for how long.

A run is either closed-loop (a fixed number of calls in flight; each caller sends its next
call when the previous one ends) or open-loop (a fixed rate of calls per second, whatever
the server's latency). Both warm up first and then record a measured window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc

_CODE_NAMES = frozenset(code.name for code in grpc.StatusCode)


class LoadSpecError(ValueError):
    """A load spec is inconsistent (the message names the option and why)."""


@dataclass(frozen=True, slots=True)
class TokenPool:
    """A file of tokens, one a line: `TOKEN`, or `CODE TOKEN` where CODE is the expected status.

    Args:
        path: the file.
        reuse: cycle through the tokens (True), or send each token once (False: a cold pool;
            a process stops calling when its share runs out).
    """

    path: Path
    reuse: bool = True


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """One load run. `concurrency` is used unless `rate` is positive; counts are totals across processes."""

    target: str
    method: str
    request_json: str = "{}"
    token: str = ""
    tokens: TokenPool | None = None
    switch_tokens: TokenPool | None = None  # used from switch_at_s into the window, once its file exists
    switch_at_s: float = 0.0
    token_field: str = ""
    token_metadata: str = ""
    metadata: tuple[tuple[str, str], ...] = ()
    expect: str = "OK"
    concurrency: int = 50
    rate: float = 0.0
    processes: int = 1
    connections: int = 1
    warmup_s: float = 2.0
    duration_s: float = 10.0
    timeout_s: float = 10.0
    max_in_flight: int = 2000
    name: str = "load"
    server_pid: int = 0
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        """`rate` (open loop) or `concurrency` (closed loop)."""
        return "rate" if self.rate > 0 else "concurrency"

    @property
    def method_path(self) -> str:
        """The method as gRPC sends it: `/package.Service/Method`."""
        return normalise_method(self.method)

    def check(self) -> None:
        """Raise LoadSpecError when options contradict each other."""
        if self.processes < 1 or self.connections < 1:
            raise LoadSpecError("processes and connections must be at least 1")
        if self.rate <= 0 and self.concurrency < self.processes:
            raise LoadSpecError("concurrency must be at least the number of processes")
        if self.warmup_s < 0 or self.duration_s < 0 or self.timeout_s <= 0:
            raise LoadSpecError("warm-up and duration must not be negative; timeout must be positive")
        if self.duration_s == 0 and (self.tokens is None or self.tokens.reuse):
            raise LoadSpecError("duration 0 (run until the tokens run out) needs a token file used once")
        if (self.token or self.tokens) and not (self.token_field or self.token_metadata):
            raise LoadSpecError("say where the token goes: token_field or token_metadata")
        if self.switch_tokens is not None and self.tokens is None:
            raise LoadSpecError("switch_tokens needs tokens to switch from")
        if self.expect not in _CODE_NAMES:
            raise LoadSpecError(f"expect must be a gRPC status code name, not {self.expect!r}")
        self.method_path  # noqa: B018 - validates the method name


def normalise_method(method: str) -> str:
    """Accept `pkg.Service/Method`, `/pkg.Service/Method` or `pkg.Service.Method` (ghz's form).

    Raises:
        LoadSpecError: the name has no service part.
    """
    name = method.strip().lstrip("/")
    if "/" not in name:
        service, _, rpc = name.rpartition(".")
        name = f"{service}/{rpc}"
    service, _, rpc = name.partition("/")
    if not service or not rpc or "." not in service:
        raise LoadSpecError(f"method must look like package.Service/Method, not {method!r}")
    return f"/{service}/{rpc}"


def split_share(total: int, parts: int, index: int) -> int:
    """The share of `total` that part `index` of `parts` takes (the first parts take the remainder)."""
    return total // parts + (1 if index < total % parts else 0)
