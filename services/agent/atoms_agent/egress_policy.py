"""EgressPolicy: which hosts and addresses the agent may connect to for a server a user registered.

A registered MCP server is a URL chosen by a caller, and the agent connects to it from inside
the cluster: without a rule, a registration is a request forgery into the internal network
(loopback, cloud metadata at 169.254.169.254, private ranges, `*.svc.cluster.local`). The rule:

- only public unicast addresses (`ipaddress`'s `is_global`, minus multicast, reserved and
  site-local ranges); an IPv6 address that carries an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`,
  6to4 `2002::/16`) is judged by the IPv4 address inside it;
- no cluster-internal or single-label host names (`localhost`, `*.svc`, `*.cluster.local`,
  `*.internal`, `*.local`, `db`), whatever they resolve to: split-horizon DNS may give an
  internal name a public address;
- except what the operator allow-lists: CIDRs (any address inside is allowed) and host names
  (`mcp.corp.internal`, `*.tools.corp`: any address they resolve to is allowed), and loopback
  when `ATOMS_AGENT_ALLOW_LOOPBACK_MCP` is set (development and tests).

This module decides; `egress_guard` resolves names and applies it at registration and again at
every connection. First-party servers from configuration are not subject to it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that only mean something inside a cluster, a data centre or a home network.
INTERNAL_NAME_SUFFIXES = (
    "localhost",
    "local",
    "internal",
    "intranet",
    "lan",
    "home.arpa",
    "svc",
    "cluster.local",
)
_SUFFIX_LIST = ", ".join(f"*.{suffix}" for suffix in INTERNAL_NAME_SUFFIXES)
_DNS_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_ALLOWED_NAME = re.compile(r"(?:\*\.)?" + _DNS_NAME.pattern)
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """The rule for registered servers, with the operator's exceptions.

    `allowed_hosts` holds exact names (`mcp.corp.internal`) and wildcards (`*.tools.corp`,
    which matches names under `tools.corp`, not `tools.corp` itself).
    """

    allowed_networks: tuple[IpNetwork, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()
    allow_loopback: bool = False

    def host_is_allow_listed(self, host: str) -> bool:
        """True when the operator trusts this name whatever it resolves to."""
        name = normalized_host(host)
        if name in self.allowed_hosts:
            return True
        return any(pattern.startswith("*.") and name.endswith(pattern[1:]) for pattern in self.allowed_hosts)

    def host_name_problem(self, host: str) -> str | None:
        """Why a host name (not an IP literal) may not be used, or None when it may be resolved."""
        name = normalized_host(host)
        if self.host_is_allow_listed(name):
            return None
        if self.allow_loopback and name == "localhost":
            return None
        if not _DNS_NAME.fullmatch(name):
            return "the host must be a DNS name of a-z, 0-9, '-' and '.' (punycode for others)"
        if "." not in name:
            return "single-label host names are internal and cannot be registered"
        if any(name == suffix or name.endswith(f".{suffix}") for suffix in INTERNAL_NAME_SUFFIXES):
            return f"cluster-internal host names ({_SUFFIX_LIST}) cannot be registered"
        return None

    def address_permitted(self, address: IpAddress) -> bool:
        """True when the agent may connect to `address` for a registered server."""
        inner = embedded_ipv4(address)
        if any(candidate in network for network in self.allowed_networks for candidate in (address, inner)):
            return True
        if self.allow_loopback and inner.is_loopback:
            return True
        return is_public_address(address)


def is_public_address(address: IpAddress) -> bool:
    """True for a public unicast address (and an IPv6 one carrying no non-public IPv4 address)."""
    inner = embedded_ipv4(address)
    if inner is not address:
        return is_public_address(inner)
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    return not (isinstance(address, ipaddress.IPv6Address) and address in _SITE_LOCAL)


def embedded_ipv4(address: IpAddress) -> IpAddress:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4), else the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _SIX_TO_FOUR and address.sixtofour is not None:
            return address.sixtofour
    return address


def ip_literal(host: str) -> IpAddress | None:
    """The address when `host` is an IP literal (brackets and an IPv6 zone allowed), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def normalized_host(host: str) -> str:
    """Lower case, without the trailing dot of a fully-qualified name."""
    return host.lower().removesuffix(".")


def parse_allow_list(items: Iterable[str]) -> tuple[tuple[IpNetwork, ...], frozenset[str]]:
    """Split operator entries into networks (`10.20.0.0/16`, `2001:db8::1`) and host names.

    Raises:
        ValueError: an entry is neither a CIDR, an address nor a (wildcard) host name.
    """
    networks: list[IpNetwork] = []
    hosts: set[str] = set()
    for raw in items:
        item = raw.strip().lower()
        if not item:
            continue
        if any(char in item for char in ":/") or item.replace(".", "").isdigit():
            try:
                networks.append(ipaddress.ip_network(item, strict=True))
            except ValueError as err:
                raise ValueError(f"{item!r} is not a CIDR (host bits set?) or an address") from err
            continue
        name = normalized_host(item)
        if not _ALLOWED_NAME.fullmatch(name):
            raise ValueError(f"{item!r} is not a host name, a *.wildcard name, a CIDR or an address")
        hosts.add(name)
    return tuple(networks), frozenset(hosts)
