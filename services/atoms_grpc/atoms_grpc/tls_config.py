"""TlsConfig: TLS and mutual TLS for every Atoms gRPC server and client, from certificate files.

One set of files per process, as a mesh or cert-manager hands a workload its identity:
the process's own certificate and key (served by its gRPC server, and presented as the
client certificate on outbound calls when mutual TLS is on) and the CA bundle that
verifies peers. Environment variables (read by each service's settings):

- `ATOMS_TLS_CERT_FILE`, `ATOMS_TLS_KEY_FILE`: this process's certificate chain and key (PEM);
- `ATOMS_TLS_CA_FILE`: the CA bundle (PEM) that verifies the servers it calls and client certificates;
- `ATOMS_TLS_REQUIRE_CLIENT_CERT`: `1`/`true` makes servers demand a client certificate signed by
  that CA (mutual TLS).

Without any of them, servers and clients speak plaintext (loopback development).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


class TlsConfigError(ValueError):
    """The TLS settings are incomplete or a file cannot be read; the message names the variable."""


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """Certificate material of one process, loaded once at start-up."""

    certificate_chain: bytes | None = None
    private_key: bytes | None = None
    root_certificates: bytes | None = None
    require_client_cert: bool = False

    @property
    def enabled(self) -> bool:
        """True when this process serves and calls over TLS."""
        return self.certificate_chain is not None or self.root_certificates is not None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> TlsConfig:
        """Read the `ATOMS_TLS_*` variables.

        Raises:
            TlsConfigError: a key without a certificate (or the reverse), mutual TLS without a CA,
                or an unreadable file.
        """
        cert_file, key_file = environ.get("ATOMS_TLS_CERT_FILE"), environ.get("ATOMS_TLS_KEY_FILE")
        ca_file = environ.get("ATOMS_TLS_CA_FILE")
        require_client_cert = environ.get("ATOMS_TLS_REQUIRE_CLIENT_CERT", "").strip().lower() in TRUE_VALUES
        if bool(cert_file) != bool(key_file):
            raise TlsConfigError("ATOMS_TLS_CERT_FILE and ATOMS_TLS_KEY_FILE must be set together")
        if require_client_cert and not (ca_file and cert_file):
            raise TlsConfigError(
                "ATOMS_TLS_REQUIRE_CLIENT_CERT needs ATOMS_TLS_CA_FILE and this process's certificate"
            )
        return cls(
            certificate_chain=_read("ATOMS_TLS_CERT_FILE", cert_file),
            private_key=_read("ATOMS_TLS_KEY_FILE", key_file),
            root_certificates=_read("ATOMS_TLS_CA_FILE", ca_file),
            require_client_cert=require_client_cert,
        )

    def server_credentials(self) -> grpc.ServerCredentials | None:
        """Credentials for `add_secure_port`, or None for plaintext.

        Raises:
            TlsConfigError: TLS is configured without this process's certificate.
        """
        if not self.enabled:
            return None
        if self.certificate_chain is None or self.private_key is None:
            raise TlsConfigError("serving TLS needs ATOMS_TLS_CERT_FILE and ATOMS_TLS_KEY_FILE")
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate_chain)],
            root_certificates=self.root_certificates if self.require_client_cert else None,
            require_client_auth=self.require_client_cert,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        """Credentials for `secure_channel` (with this process's certificate for mutual TLS), or None."""
        if not self.enabled:
            return None
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )

    def __repr__(self) -> str:
        # Never show key material.
        return f"TlsConfig(enabled={self.enabled}, require_client_cert={self.require_client_cert})"


def _read(variable: str, path: str | None) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise TlsConfigError(f"{variable}: cannot read {path}: {err.strerror}") from err


def open_channel(
    target: str,
    tls: TlsConfig | None,
    *,
    options: tuple[tuple[str, object], ...] = (),
    interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
) -> grpc.aio.Channel:
    """A `grpc.aio` channel to `target`: TLS when `tls` is enabled, plaintext otherwise."""
    credentials = tls.channel_credentials() if tls is not None else None
    chain = list(interceptors) or None
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=options, interceptors=chain)
    return grpc.aio.secure_channel(target, credentials, options=options, interceptors=chain)


def peer_identities(context: grpc.aio.ServicerContext[Any, Any]) -> tuple[str, ...]:
    """The verified identities of a mutual-TLS caller: its SAN DNS names and URIs, and its CN.

    Empty for a plaintext or server-only TLS connection.
    """
    auth_context = context.auth_context() or {}
    names: list[str] = []
    for key in ("x509_subject_alternative_name", "x509_common_name"):
        names.extend(value.decode() for value in auth_context.get(key, ()))
    return tuple(dict.fromkeys(names))
