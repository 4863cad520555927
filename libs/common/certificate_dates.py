"""When a certificate stops being valid: its ``notAfter``, read from the PEM (the console's
health page counts down to it, docs/console.md "Health")."""

from __future__ import annotations

from datetime import date

from cryptography import x509


def not_after(pem: str) -> date | None:
    """The last day (UTC) the first certificate of ``pem`` is valid; ``None`` when ``pem``
    holds no readable certificate."""
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None
    return cert.not_valid_after_utc.date()
