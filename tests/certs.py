"""A fresh self-signed certificate for an app registration (certificate credentials)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class AppCertificate:
    key_pem: str
    cert_pem: str
    #: SHA-1 thumbprint, hex (what Entra shows and msal sends as x5t).
    thumbprint: str

    def write(self, folder: Path) -> tuple[Path, Path]:
        """``(certificate file, key file)`` in ``folder``."""
        cert_file, key_file = folder / "app.crt", folder / "app.key"
        cert_file.write_text(self.cert_pem)
        key_file.write_text(self.key_pem)
        return cert_file, key_file


def self_signed(common_name: str = "mailpipe test app") -> AppCertificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return AppCertificate(
        key_pem=key_pem,
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        thumbprint=cert.fingerprint(hashes.SHA1()).hex(),
    )
