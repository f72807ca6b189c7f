"""EgressGuard: resolves a registered server's host, bounded in time, and applies the EgressPolicy.

It is asked twice. At registration, so that a caller learns at once, with an INVALID_ARGUMENT
naming `url`, that an internal destination cannot be registered. And at every connection to a
registered server (`guarded_transport`), because DNS answers change: a name that resolved to a
public address when it was registered may resolve to 127.0.0.1 or 169.254.169.254 a minute
later (DNS rebinding). The connection then goes to an address that passed, never to the name.

A refusal at registration says the same thing whether the name does not exist, does not answer
in time, or resolves to an internal address: which internal names exist is not the caller's
business. Lookups run in the event loop's resolver threads; at most `max_concurrent_lookups`
at once, so a flood of registrations cannot take every thread.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import anyio

from atoms_agent.egress_policy import EgressPolicy, IpAddress, ip_literal
from atoms_agent.errors import InvalidRequestError

HostResolver = Callable[[str, int], Awaitable[Sequence[IpAddress]]]
"""Resolves (host, port) to the addresses a TCP connection may use, in preference order."""

DEFAULT_RESOLVE_TIMEOUT_S = 2.0
DEFAULT_MAX_CONCURRENT_LOOKUPS = 16


async def resolve_with_system(host: str, port: int) -> list[IpAddress]:
    """The system resolver's answer (`getaddrinfo`), each address once, in its order.

    Raises:
        OSError: the name does not resolve.
    """
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IpAddress] = []
    for _family, _type, _proto, _canonical, sockaddr in infos:
        address = ip_literal(str(sockaddr[0]))
        if address is not None and address not in addresses:
            addresses.append(address)
    return addresses


class EgressRefusedError(Exception):
    """The agent will not connect to this host; the message is for the log, not for callers."""


class EgressGuard:
    """Applies one EgressPolicy to registrations and to connections."""

    def __init__(
        self,
        *,
        policy: EgressPolicy,
        resolver: HostResolver = resolve_with_system,
        resolve_timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S,
        max_concurrent_lookups: int = DEFAULT_MAX_CONCURRENT_LOOKUPS,
    ) -> None:
        """Args:
        policy: what is allowed.
        resolver: name resolution (the system's by default; tests inject their own answers).
        resolve_timeout_s: the longest one lookup may take, waiting for a free slot included.
        max_concurrent_lookups: lookups running at once.

        Raises:
            ValueError: a bound is not positive.
        """
        if resolve_timeout_s <= 0 or max_concurrent_lookups <= 0:
            raise ValueError("resolve_timeout_s and max_concurrent_lookups must be positive")
        self.policy = policy
        self._resolver = resolver
        self._resolve_timeout_s = resolve_timeout_s
        self._lookups = anyio.Semaphore(max_concurrent_lookups)

    async def check_registration(self, url: str) -> None:
        """Refuse a URL whose host is not a permitted destination now.

        Raises:
            InvalidRequestError: on `url`, saying why (the same words for every DNS outcome).
        """
        parts = urlsplit(url)
        host = parts.hostname or ""
        literal = ip_literal(host)
        if literal is not None:
            if not self.policy.address_permitted(literal):
                raise InvalidRequestError(
                    "url", f"{literal} is not a public address; only public addresses may be registered"
                )
            return
        problem = self.policy.host_name_problem(host)
        if problem is not None:
            raise InvalidRequestError("url", problem)
        if self.policy.host_is_allow_listed(host):
            return
        try:
            addresses = await self._resolve(host, parts.port or 443, self._resolve_timeout_s)
        except EgressRefusedError:
            addresses = []
        if not addresses or not all(self.policy.address_permitted(a) for a in addresses):
            raise InvalidRequestError(
                "url",
                f"the host must resolve, within {self._resolve_timeout_s:g} s, to public addresses only",
            )

    async def permitted_addresses(self, host: str, port: int, *, timeout_s: float | None) -> list[IpAddress]:
        """The addresses a connection to `host` may use now, in the resolver's order.

        Raises:
            EgressRefusedError: none (the name is refused, does not resolve in time, or resolves
                only to addresses the policy refuses).
        """
        literal = ip_literal(host)
        if literal is not None:
            if not self.policy.address_permitted(literal):
                raise EgressRefusedError(f"{literal} is not a permitted address")
            return [literal]
        problem = self.policy.host_name_problem(host)
        if problem is not None:
            raise EgressRefusedError(problem)
        timeout = self._resolve_timeout_s if timeout_s is None else min(timeout_s, self._resolve_timeout_s)
        addresses = await self._resolve(host, port, timeout)
        if self.policy.host_is_allow_listed(host):
            return addresses
        permitted = [address for address in addresses if self.policy.address_permitted(address)]
        if not permitted:
            shown = ", ".join(str(address) for address in addresses) or "nothing"
            raise EgressRefusedError(f"{host} resolved to no permitted address ({shown})")
        return permitted

    async def _resolve(self, host: str, port: int, timeout_s: float) -> list[IpAddress]:
        try:
            with anyio.fail_after(timeout_s):
                async with self._lookups:
                    return list(await self._resolver(host, port))
        except TimeoutError as err:
            raise EgressRefusedError(f"{host} did not resolve within {timeout_s:g} s") from err
        except (OSError, UnicodeError, ValueError) as err:
            raise EgressRefusedError(f"{host} did not resolve ({type(err).__name__})") from err
