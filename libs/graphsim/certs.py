"""The simulator's own certificate authority and server certificate.

msal accepts only https authorities, so the simulator speaks TLS. A CA is generated on first
start in the state directory and reused afterwards; clients trust ``ca.pem`` and nothing else.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALID_DAYS = 3650
#: Names every server certificate covers; ``ensure_certs(hostnames=...)`` adds more (the
#: compose service name ``graphsim``, say), because other containers reach it by that name.
_LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class CertPaths:
    ca: Path
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mailpipe graphsim"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _make_ca(paths: CertPaths, ca_key_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("mailpipe graphsim CA"))
        .issuer_name(_name("mailpipe graphsim CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(ca_key_path, key)
    paths.ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def subject_names(hostnames: Sequence[str] = ()) -> list[x509.GeneralName]:
    """The names a server certificate must cover: the local ones plus ``hostnames``."""
    names: list[x509.GeneralName] = []
    for host in (*_LOCAL_NAMES, *hostnames):
        name = _general_name(host)
        if name not in names:
            names.append(name)
    return names


def _covers(cert_path: Path, names: Sequence[x509.GeneralName]) -> bool:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return all(name in list(san) for name in names)


def _make_server_cert(
    paths: CertPaths, ca_key_path: Path, names: Sequence[x509.GeneralName]
) -> None:
    ca_cert = x509.load_pem_x509_certificate(paths.ca.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName(names)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS - 1))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(paths.key, key)
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_certs(state_dir: Path, hostnames: Sequence[str] = ()) -> CertPaths:
    """The CA and server certificate in ``state_dir``, created when missing.

    The server certificate is made again (same CA, so clients keep trusting it) when it does
    not cover every name in ``hostnames``.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    paths = CertPaths(
        ca=state_dir / "ca.pem", cert=state_dir / "server.pem", key=state_dir / "server-key.pem"
    )
    ca_key_path = state_dir / "ca-key.pem"
    if not paths.ca.is_file() or not ca_key_path.is_file():
        _make_ca(paths, ca_key_path)
        paths.cert.unlink(missing_ok=True)
    names = subject_names(hostnames)
    if not paths.cert.is_file() or not paths.key.is_file() or not _covers(paths.cert, names):
        _make_server_cert(paths, ca_key_path, names)
    return paths
