"""A DNS of the test's own for the agent's `HostResolver`: answers that a test sets and changes."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PUBLIC_ADDRESS = "93.184.215.14"
"""A public address the tests let names resolve to; no test connects to it."""


class FakeDns:
    """Names resolve to what the test says; an unknown name fails as NXDOMAIN would.

    `hang(name)` makes a name never answer (until `release()`), to exercise the lookup timeout.
    Every lookup is recorded in `lookups`, so a test can see that a connection resolved again.
    """

    def __init__(self, answers: dict[str, Iterable[str]] | None = None) -> None:
        self._answers = {name: list(addresses) for name, addresses in (answers or {}).items()}
        self._hanging: set[str] = set()
        self._released = asyncio.Event()
        self.lookups: list[str] = []

    def answer(self, name: str, *addresses: str) -> None:
        """From now on, `name` resolves to `addresses` (none: NXDOMAIN)."""
        self._hanging.discard(name)
        if addresses:
            self._answers[name] = list(addresses)
        else:
            self._answers.pop(name, None)

    def hang(self, name: str) -> None:
        """From now on, a lookup of `name` never answers."""
        self._hanging.add(name)

    def release(self) -> None:
        """Let hanging lookups end (as NXDOMAIN), so nothing is left waiting at teardown."""
        self._released.set()

    async def __call__(self, host: str, port: int) -> list[IpAddress]:
        self.lookups.append(host)
        if host in self._hanging:
            await self._released.wait()
        if host not in self._answers or host in self._hanging:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(address) for address in self._answers[host]]
