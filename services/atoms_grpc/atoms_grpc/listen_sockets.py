"""ListenError and the listening sockets behind it: why a server could not listen, in one line.

Every face of a service (gRPC, HTTP, `/metrics`) binds its port through this module or
turns its library's bind failure into a `ListenError`, so a program's entry point catches
one error type and prints what to do ("the port is in use; choose another with --port")
instead of a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Mapping

FACE_GRPC = "gRPC"
FACE_HTTP = "HTTP"
FACE_METRICS = "metrics"

_BACKLOG = 2048  # uvicorn's default


class ListenError(RuntimeError):
    """A server could not listen on `host:port`.

    Attributes:
        face: which server of the process, `FACE_GRPC`, `FACE_HTTP` or `FACE_METRICS`.
        host, port: the address it tried.
        in_use: True when another socket already listens there (EADDRINUSE).
    """

    def __init__(self, *, face: str, host: str, port: int, problem: str, in_use: bool = False) -> None:
        super().__init__(f"cannot listen on {_address(host, port)} for {face}: {problem}")
        self.face, self.host, self.port, self.in_use = face, host, port, in_use

    @classmethod
    def from_os_error(cls, err: OSError, *, face: str, host: str, port: int) -> ListenError:
        """The ListenError for a failed `bind()` (in use, permission denied, no such address)."""
        in_use = err.errno == errno.EADDRINUSE
        problem = "the port is in use" if in_use else (err.strerror or str(err)).lower()
        return cls(face=face, host=host, port=port, problem=problem, in_use=in_use)

    def advice(self, flags: Mapping[str, str]) -> str:
        """One line for an operator: what failed, then which flag changes it.

        Args:
            flags: the program's flag for each face's port, e.g. `{FACE_GRPC: "--port"}`.
        """
        flag = flags.get(self.face)
        if flag is None:
            return str(self)
        if self.in_use:
            return f"{self}; stop what holds it or choose another port with {flag} (0 picks a free one)"
        return f"{self}; choose another address or port ({flag})"


def split_address(address: str) -> tuple[str, int] | None:
    """`"127.0.0.1:50051"` -> `("127.0.0.1", 50051)`, `"[::]:0"` -> `("::", 0)`; None if not host:port."""
    host, separator, port = address.rpartition(":")
    if not separator or not port.isdigit():
        return None
    return host.removeprefix("[").removesuffix("]"), int(port)


def open_listeners(host: str, port: int, *, face: str) -> list[socket.socket]:
    """Bind and listen on every address `host` resolves to, as `asyncio` servers do.

    With port 0, the first address picks a free port and the others take the same one.

    Raises:
        ListenError: the address does not resolve, or one of its sockets cannot be bound;
            the sockets already opened are closed first.
    """
    listeners: list[socket.socket] = []
    try:
        for family, address in _resolve(host, port, face=face):
            if listeners and port == 0:
                address = (address[0], listeners[0].getsockname()[1], *address[2:])
            listeners.append(_listen(family, address, face=face, host=host, port=port))
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners


def ensure_port_free(host: str, port: int, *, face: str) -> None:
    """Raise now if `host:port` cannot be bound, then release it again.

    For libraries whose own bind failure does not say why (grpc's "Failed to bind"): the
    probe binds exactly as they do (SO_REUSEADDR, no listen), so it fails where they would.
    Port 0 always passes.

    Raises:
        ListenError: the port is in use or the address cannot be bound.
    """
    if port == 0:
        return
    for family, address in _resolve(host, port, face=face):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            _bind(probe, address, face=face, host=host, port=port, v6only=False)


def _resolve(host: str, port: int, *, face: str) -> list[tuple[socket.AddressFamily, tuple[object, ...]]]:
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE | socket.AI_NUMERICSERV
        )
    except socket.gaierror as err:
        raise ListenError(
            face=face, host=host, port=port, problem=f"the host does not resolve ({err.strerror})"
        ) from err
    addresses = dict.fromkeys((info[0], info[4]) for info in infos)
    return list(addresses)


def _listen(
    family: socket.AddressFamily, address: tuple[object, ...], *, face: str, host: str, port: int
) -> socket.socket:
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        _bind(listener, address, face=face, host=host, port=port, v6only=True)
        listener.listen(_BACKLOG)
    except BaseException:
        listener.close()
        raise
    return listener


def _bind(
    sock: socket.socket, address: tuple[object, ...], *, face: str, host: str, port: int, v6only: bool
) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart must not wait for TIME_WAIT
    if v6only and sock.family == socket.AF_INET6:
        # As asyncio does: "::" must not also claim the IPv4 port another socket may hold.
        # (grpc binds dual-stack, so its probe leaves the default.)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        sock.bind(address)
    except OSError as err:
        raise ListenError.from_os_error(err, face=face, host=host, port=port) from err


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
