"""The integrations repository on SQLite and PostgreSQL: create, update (a write-only secret
kept when none is given), delete, one default, the revision every change bumps, and the
services' mailboxes built from the enabled ones, secrets opened only there."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import date

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from libs.common.db.integrations import IntegrationNotFound, Integrations
from libs.common.db.schema import metadata
from libs.common.integration_rules import IntegrationFields, IntegrationInvalid
from libs.common.secret_box import SecretBox, SecretsKeyError, new_key
from tests.certs import self_signed

TENANT = "6f1c7a5e-3d2b-4c8a-9e1f-0a2b3c4d5e6f"
CLIENT = "0d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60"
SECRET = "Qw8~abc.defGHIjklMNOpqrSTUvwxYZ0123456789"


@pytest.fixture
def repo(database_url: str) -> Iterator[Integrations]:
    opened = Integrations.open(database_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(new_key())


def fields(address: str = "support@contoso.com", **overrides: object) -> IntegrationFields:
    base = IntegrationFields(
        name=address, address=address, tenant_id=TENANT, client_id=CLIENT, secret=SecretStr(SECRET)
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def _stored_secrets(repo: Integrations) -> list[str]:
    table = metadata.tables["integrations"]
    with repo.engine.connect() as conn:
        return [str(v) for v in conn.execute(select(table.c.sealed_secret)).scalars()]


def test_create_update_and_the_write_only_secret(repo: Integrations, box: SecretBox) -> None:
    assert repo.revision() == 0 and repo.list() == ()
    created = repo.save(
        fields(secret_expires_on=date(2027, 6, 1), ignore_senders=("@x.example",)), box
    )
    assert created.fields.secret is None
    assert created.fields.secret_expires_on == date(2027, 6, 1)
    assert created.fields.ignore_senders == ("@x.example",)
    assert repo.get(created.id) == created == repo.find("SUPPORT@contoso.com")
    assert [SECRET in s for s in _stored_secrets(repo)] == [False]
    updated = repo.save(fields(folder="Helpdesk", secret=None), box, created.id)
    assert updated.fields.folder == "Helpdesk" and updated.revision > created.revision
    assert updated.created_at == created.created_at
    [config] = repo.to_mailbox_configs(box)
    assert config.secret() == SecretStr(SECRET) and config.folder == "Helpdesk"
    repo.save(fields(secret=SecretStr("new-value~1234567890")), box, created.id)
    assert repo.to_mailbox_configs(box)[0].secret() == SecretStr("new-value~1234567890")


def test_refusals_name_the_field(repo: Integrations, box: SecretBox) -> None:
    first = repo.save(fields(), box)
    with pytest.raises(IntegrationInvalid, match=r"address: integration \d+ already has"):
        repo.save(fields(name="other"), box)
    with pytest.raises(IntegrationInvalid, match=r"name: integration \d+ already has"):
        repo.save(fields("b@contoso.com", name=first.fields.name), box)
    with pytest.raises(IntegrationInvalid, match="client_secret: this looks like the secret's ID"):
        repo.save(fields("c@contoso.com", secret=SecretStr(TENANT)), box)
    with pytest.raises(IntegrationInvalid, match="certificate_key: missing"):
        repo.save(
            fields(credential_kind="certificate", certificate_pem="x", secret=None), box, first.id
        )
    with pytest.raises(IntegrationNotFound):
        repo.save(fields(), box, first.id + 100)
    assert len(repo.list()) == 1


def test_one_default_and_every_change_bumps_the_revision(
    repo: Integrations, box: SecretBox
) -> None:
    a = repo.save(fields("a@contoso.com", is_default=True), box)
    b = repo.save(fields("b@contoso.com"), box)
    seen = repo.revision()
    repo.set_default(b.id)
    assert repo.revision() > seen
    assert [i.fields.is_default for i in repo.list()] == [False, True]
    seen = repo.revision()
    repo.save(fields("a@contoso.com", is_default=True, secret=None), box, a.id)
    assert [i.fields.is_default for i in repo.list()] == [True, False]
    assert repo.revision() > seen
    seen = repo.revision()
    assert repo.delete(a.id) is True
    assert repo.revision() > seen and [i.id for i in repo.list()] == [b.id]
    assert repo.delete(a.id) is False
    with pytest.raises(IntegrationNotFound):
        repo.set_default(a.id)


def test_only_enabled_integrations_configure_the_services(
    repo: Integrations, box: SecretBox
) -> None:
    repo.save(fields("a@contoso.com"), box)
    repo.save(fields("b@contoso.com", enabled=False), box)
    assert [c.address for c in repo.to_mailbox_configs(box)] == ["a@contoso.com"]


def test_a_certificate_round_trips_in_memory(repo: Integrations, box: SecretBox) -> None:
    cert = self_signed()
    given = fields(
        credential_kind="certificate", certificate_pem=cert.cert_pem, secret=SecretStr(cert.key_pem)
    )
    repo.save(given, box)
    assert all("PRIVATE KEY" not in s for s in _stored_secrets(repo))
    [config] = repo.to_mailbox_configs(box)
    assert config.certificate_pem == cert.cert_pem
    assert config.certificate_key is not None
    assert config.certificate_key.get_secret_value().strip() == cert.key_pem.strip()


def test_a_wrong_key_is_one_line_and_nothing_leaks(
    repo: Integrations, box: SecretBox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    saved = repo.save(fields(), box)
    other = SecretBox(new_key())
    with pytest.raises(SecretsKeyError) as caught:
        repo.to_mailbox_configs(other)
    assert "set MAILPIPE_SECRETS_KEY_FILE to the key the integrations were saved with" in str(
        caught.value
    )
    [config] = repo.to_mailbox_configs(box)
    shown = " ".join([caplog.text, repr(saved), str(saved), repr(config), repr(caught.value)])
    assert SECRET not in shown


def test_the_last_check_replaces_the_one_before_and_goes_with_its_integration(
    repo: Integrations, box: SecretBox
) -> None:
    first = repo.save(fields(), box)
    other = repo.save(fields("desk@contoso.com"), box)
    revision = repo.revision()
    failed = {"step": "token", "ok": False, "detail": "AADSTS7000215", "fix": "paste the Value"}
    repo.record_check(first.id, [failed])
    passed = [{"step": "token", "ok": True, "detail": "ok", "fix": ""}]
    skipped = {"step": "send-as a@contoso.com", "ok": None, "detail": "draft", "fix": ""}
    last = repo.record_check(first.id, [*passed, skipped])
    assert last.ok is True  # a step that cannot be proven is not a failure
    repo.record_check(other.id, [failed])
    checks = repo.last_checks()
    assert checks[first.id].ok is True and list(checks[first.id].steps) == [*passed, skipped]
    assert checks[other.id].ok is False
    assert repo.revision() == revision  # a test is not a change of the integration
    repo.delete(first.id)
    assert set(repo.last_checks()) == {other.id}
    with pytest.raises(IntegrationNotFound):
        repo.record_check(first.id, passed)
