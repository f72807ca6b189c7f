"""wait_until_reachable: one gRPC connection to the target before any load process starts.

Without it a run against a wrong or stopped target spawns its processes, waits out their
connect timeout and ends with a bare `TimeoutError`. The probe fails in milliseconds when the
connection is refused (or the peer does not speak HTTP/2), and says what to check.
"""

from __future__ import annotations

import threading

import grpc

_FAILED = grpc.ChannelConnectivity.TRANSIENT_FAILURE
_SHUTDOWN = grpc.ChannelConnectivity.SHUTDOWN


class TargetUnreachableError(RuntimeError):
    """No gRPC connection to the target; the message names it and what to check."""


def wait_until_reachable(target: str, *, timeout_s: float) -> None:
    """Return once a gRPC connection to `target` is up.

    Raises:
        TargetUnreachableError: the connection failed (refused, reset, not HTTP/2) or was
            not up within `timeout_s`.
    """
    settled = threading.Event()
    failed: list[grpc.ChannelConnectivity] = []

    def on_state(state: grpc.ChannelConnectivity) -> None:
        if state in (_FAILED, _SHUTDOWN):
            failed.append(state)
        if state is grpc.ChannelConnectivity.READY or failed:
            settled.set()

    channel = grpc.insecure_channel(target, options=(("grpc.enable_retries", 0),))
    channel.subscribe(on_state, try_to_connect=True)
    try:
        if not settled.wait(timeout_s):
            raise TargetUnreachableError(
                f"no gRPC connection to {target} within {timeout_s:g}s: something accepts "
                "connections there but does not answer; check the address"
            )
        if failed:
            raise TargetUnreachableError(
                f"cannot connect to {target}: nothing listens there, or it does not speak gRPC; "
                "check the address and that the service is running"
            )
    finally:
        channel.unsubscribe(on_state)
        channel.close()
