"""The suite runs beside a developer's dev stack: its default ports are never free during a test run."""

from __future__ import annotations

import errno
import socket

import pytest

from tests.conftest import DEV_STACK_PORTS


@pytest.mark.parametrize("port", sorted(DEV_STACK_PORTS), ids=lambda port: f"{port} {DEV_STACK_PORTS[port]}")
def test_a_default_port_of_the_dev_stack_cannot_be_bound_during_the_run(port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the services bind
        with pytest.raises(OSError, match="in use") as caught:
            probe.bind(("127.0.0.1", port))
    assert caught.value.errno == errno.EADDRINUSE
