"""A certificate authority made at test time, and certificates it signs, as PEM files."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class CertificateFiles:
    """Paths of one certificate, its key, and the CA that signed it."""

    cert: Path
    key: Path
    ca: Path

    def environment(self, *, require_client_cert: bool = False) -> dict[str, str]:
        """The `ATOMS_TLS_*` variables for a process holding this certificate."""
        env = {
            "ATOMS_TLS_CERT_FILE": str(self.cert),
            "ATOMS_TLS_KEY_FILE": str(self.key),
            "ATOMS_TLS_CA_FILE": str(self.ca),
        }
        if require_client_cert:
            env["ATOMS_TLS_REQUIRE_CLIENT_CERT"] = "1"
        return env


class TestCertificateAuthority:
    """Signs server and client certificates into a folder."""

    __test__ = False  # not a test class

    def __init__(self, folder: Path, *, name: str = "Atoms Test CA") -> None:
        self.folder = folder
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = folder / f"{name.replace(' ', '-').lower()}.pem"
        self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def issue(
        self, name: str, *, dns: tuple[str, ...] = (), uris: tuple[str, ...] = (), loopback: bool = True
    ) -> CertificateFiles:
        """A certificate for `name` (CN), valid for server and client use."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        alt_names: list[x509.GeneralName] = [x509.DNSName(d) for d in (*dns, "localhost")]
        alt_names += [x509.UniformResourceIdentifier(u) for u in uris]
        if loopback:
            alt_names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        cert_file, key_file = self.folder / f"{name}.crt", self.folder / f"{name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return CertificateFiles(cert=cert_file, key=key_file, ca=self.ca_file)
