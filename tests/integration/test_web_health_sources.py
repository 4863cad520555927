"""Where the health page's integrations come from: the database's enabled incoming
integrations (a certificate's notAfter read from its PEM) or the MAILPIPE_CONFIG file
(read-only; a certificate file's notAfter), and a configuration that cannot be read said in
one line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from libs.common.certificate_dates import not_after
from libs.common.db.integrations import Integrations
from libs.common.integration_rules import IntegrationFields
from libs.common.secret_box import SecretBox, new_key
from libs.common.settings import Settings
from services.web.health_sources import list_integrations
from tests.certs import self_signed

TENANT = "6f1c7a5e-3d2b-4c8a-9e1f-0a2b3c4d5e6f"
CLIENT = "0d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60"


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[Integrations]:
    repository = Integrations.open(f"sqlite:///{tmp_path / 'console.db'}")
    try:
        yield repository
    finally:
        repository.close()


def _tomorrow() -> date:
    return (datetime.now(UTC) + timedelta(days=1)).date()


def test_not_after_reads_the_certificates_last_day() -> None:
    assert not_after(self_signed().cert_pem) == _tomorrow()
    assert not_after("not a certificate") is None


def test_the_database_lists_enabled_incoming_integrations_with_their_earliest_expiry(
    stored: Integrations,
) -> None:
    box, cert = SecretBox(new_key()), self_signed()
    later = date.today() + timedelta(days=400)

    def save(name: str, address: str, **more: Any) -> None:
        fields = IntegrationFields(
            name=name, address=address, tenant_id=TENANT, client_id=CLIENT, **more
        )
        stored.save(fields, box)

    save("Support", "support@contoso.com", secret=SecretStr("v~1"), secret_expires_on=later)
    save(
        "Certified",
        "cert@contoso.com",
        credential_kind="certificate",
        secret=SecretStr(cert.key_pem),
        certificate_pem=cert.cert_pem,
        secret_expires_on=later,
    )
    save("Off", "off@contoso.com", secret=SecretStr("v~1"), enabled=False)
    save("Out", "out@contoso.com", secret=SecretStr("v~1"), direction="outgoing")
    listing = list_integrations(Settings(config_source="database"), stored)
    assert (listing.source, listing.problem) == ("database", None)
    found = {v.name: (v.expires_on, v.credential) for v in listing.integrations}
    assert found == {"Support": (later, "secret"), "Certified": (_tomorrow(), "certificate")}


def test_the_file_lists_its_mailboxes_and_a_certificate_files_expiry(
    tmp_path: Path, stored: Integrations
) -> None:
    cert_file, key_file = self_signed().write(tmp_path)
    config = tmp_path / "mailpipe.toml"
    config.write_text(
        "[[mailboxes]]\n"
        'address = "support@contoso.com"\n'
        f'tenant_id = "{TENANT}"\nclient_id = "{CLIENT}"\n'
        f'certificate_file = "{cert_file}"\ncertificate_key_file = "{key_file}"\n'
        "poll_interval_s = 10\n",
        encoding="utf-8",
    )
    config.chmod(0o600)
    listing = list_integrations(Settings(config=config), stored)
    assert listing.problem is None and listing.source == "file"
    (view,) = listing.integrations
    assert (view.address, view.poll_interval_s) == ("support@contoso.com", 10)
    assert (view.expires_on, view.credential) == (_tomorrow(), "certificate")


def test_a_configuration_that_cannot_be_read_is_one_line(stored: Integrations) -> None:
    listing = list_integrations(Settings(config=None), stored)
    assert listing.integrations == ()
    assert listing.problem == (
        "no mailbox configuration: MAILPIPE_CONFIG is not set (set MAILPIPE_CONFIG to your "
        "mailbox TOML file (docs/configuration.md); `mailpipe demo` needs none)"
    )
