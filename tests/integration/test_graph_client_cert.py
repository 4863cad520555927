"""Real msal obtains a token from the simulator with a certificate (no secret)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from libs.common.graph import GraphMail
from libs.graphsim.testing import SimHandle

from .graph_client_helpers import BOX, control_json, rfc822, seed


def _certificate(tmp_path: Path) -> tuple[Path, Path, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailpipe-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_file, cert_file = tmp_path / "app.key", tmp_path / "app.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_text(cert_pem)
    return cert_file, key_file, cert_pem


def test_certificate_gets_a_token_and_reads_the_mailbox(sim: SimHandle, tmp_path: Path) -> None:
    cert_file, key_file, cert_pem = _certificate(tmp_path)
    client_id = str(uuid.uuid4())
    control_json(
        sim,
        "POST",
        "/_sim/apps",
        json={"tenant_id": sim.tenant_id, "client_id": client_id, "certificate_pem": cert_pem},
    )
    seed(sim, rfc822("Certificate test")[0])
    config = sim.config(
        client_id=client_id,
        client_secret=None,
        certificate_file=str(cert_file),
        certificate_key_file=str(key_file),
    )
    with GraphMail(config.graph, config.mailbox(BOX)) as mail:
        assert [m["subject"] for m in mail.list_messages()] == ["Certificate test"]
