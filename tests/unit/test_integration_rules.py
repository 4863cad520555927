"""An integration's fields: the rules that refuse what is wrong in one line naming the field,
and the mailbox configuration they become (the services' MailboxConfig)."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import SecretStr

from libs.common.after_processing import CopyThenDelete, Move
from libs.common.integration_rules import (
    PASTED_ID_REFUSAL,
    IntegrationFields,
    IntegrationInvalid,
    check_address,
    check_client_id,
    check_one_default,
    check_poll_interval,
    check_secret,
    check_tenant,
    checked,
    mailbox_config,
    problems,
)
from tests.certs import self_signed

TENANT = "6f1c7a5e-3d2b-4c8a-9e1f-0a2b3c4d5e6f"
CLIENT = "0d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60"
SECRET = "Qw8~abc.defGHIjklMNOpqrSTUvwxYZ0123456789"


def fields(**overrides: object) -> IntegrationFields:
    base = IntegrationFields(
        name="Support",
        address="Support@Contoso.com",
        tenant_id=TENANT,
        client_id=CLIENT,
        secret=SecretStr(SECRET),
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", [TENANT, TENANT.upper(), "contoso.onmicrosoft.com", "contoso.com"]
)
def test_a_tenant_is_a_guid_or_a_domain(value: str) -> None:
    assert check_tenant(f" {value} ") == value.lower()


@pytest.mark.parametrize("value", ["t", "contoso", "not a tenant", "1234-5678", "-bad-.com"])
def test_anything_else_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(IntegrationInvalid, match="not a GUID or a domain") as caught:
        check_tenant(value)
    assert caught.value.field == "tenant_id"
    assert caught.value.hint is not None and "Entra" in caught.value.hint


def test_a_client_id_is_a_guid() -> None:
    assert check_client_id(CLIENT.upper()) == CLIENT
    with pytest.raises(IntegrationInvalid, match="client_id: not a GUID"):
        check_client_id("contoso.com")


def test_a_secret_id_pasted_instead_of_its_value_is_refused_without_echo() -> None:
    secret_id = "2b8f1e44-5c3d-4a2b-9e8f-7a6b5c4d3e2f"
    with pytest.raises(IntegrationInvalid) as caught:
        check_secret(SecretStr(secret_id))
    assert str(caught.value) == f"client_secret: {PASTED_ID_REFUSAL}"
    assert PASTED_ID_REFUSAL == (
        "this looks like the secret's ID; paste its Value (shown once when the secret was made)"
    )
    assert secret_id not in repr(caught.value)
    with pytest.raises(IntegrationInvalid, match="empty"):
        check_secret(SecretStr("  "))
    assert check_secret(SecretStr(f" {SECRET}\n")).get_secret_value() == SECRET


def test_address_poll_interval_and_the_one_default() -> None:
    assert check_address("Agent@Contoso.COM") == "agent@contoso.com"
    with pytest.raises(IntegrationInvalid, match="address: not an email address"):
        check_address("support at contoso")
    assert check_poll_interval(5) == 5.0
    for bad in (0, -1.0):
        with pytest.raises(IntegrationInvalid, match="poll_interval_s: must be more than 0"):
            check_poll_interval(bad)
    check_one_default([(1, True), (2, False), (None, False)])
    with pytest.raises(IntegrationInvalid, match="is_default: more than one"):
        check_one_default([(1, True), (None, True)])


def test_checked_normalises_and_names_the_first_wrong_field() -> None:
    good = checked(fields(send_as=("Agent@Contoso.com",)), stored_secret=False)
    assert (good.address, good.send_as) == ("support@contoso.com", ("agent@contoso.com",))
    with pytest.raises(IntegrationInvalid, match="client_secret: missing"):
        checked(fields(secret=None), stored_secret=False)
    assert checked(fields(secret=None), stored_secret=True).secret is None
    with pytest.raises(IntegrationInvalid, match="after_processing: must be 'delete'"):
        checked(fields(after_processing="archive"), stored_secret=False)
    with pytest.raises(IntegrationInvalid, match=r"record_token_format"):
        checked(fields(record_token_format="no id"), stored_secret=False)
    with pytest.raises(IntegrationInvalid, match="direction: must be one of incoming, outgoing"):
        checked(fields(direction="sideways"), stored_secret=False)
    with pytest.raises(IntegrationInvalid, match="credential_kind: must be one of secret"):
        checked(fields(credential_kind="password"), stored_secret=False)
    with pytest.raises(IntegrationInvalid, match="certificate_pem: missing"):
        checked(fields(credential_kind="certificate"), stored_secret=False)
    with pytest.raises(IntegrationInvalid, match="certificate_key: not a PEM private key"):
        checked(fields(credential_kind="certificate", certificate_pem="x"), stored_secret=False)


def _refusal(given: IntegrationFields) -> str:
    """Today's one-line refusal of the one wrong field of ``given``."""
    with pytest.raises(IntegrationInvalid) as caught:
        checked(given, stored_secret=False)
    return str(caught.value)


def test_problems_reports_every_wrong_field_each_as_its_rule_says() -> None:
    wrong = {
        "name": "  ",
        "address": "support at contoso",
        "tenant_id": "",
        "client_id": "",
        "secret": None,
        "poll_interval_s": 0.0,
        "send_as": ("agent@contoso.com", "not an agent"),
    }
    found = problems(fields(**wrong), stored_secret=False)
    assert list(found) == [
        "name",
        "client_secret",
        "address",
        "tenant_id",
        "client_id",
        "poll_interval_s",
        "send_as",
    ]
    for name, value in wrong.items():
        alone = _refusal(fields(**{name: value}))
        where = "client_secret" if name == "secret" else name
        assert str(found[where]) == alone and found[where].field == where
    assert found["tenant_id"].hint is not None and "Entra" in found["tenant_id"].hint


def test_problems_of_a_certificate_and_of_mailbox_config() -> None:
    found = problems(fields(credential_kind="certificate", secret=None), stored_secret=False)
    assert [str(e) for e in found.values()] == [
        "certificate_key: missing: a new integration needs its credential",
        "certificate_pem: missing: upload the public certificate",
    ]
    assert list(problems(fields(credential_kind="password"), stored_secret=False)) == [
        "credential_kind"
    ]
    config_only = problems(fields(after_processing="archive"), stored_secret=False)
    assert list(config_only) == ["after_processing"]
    both = problems(fields(after_processing="archive", client_id="app"), stored_secret=False)
    assert list(both) == ["client_id"]  # MailboxConfig's rules once the others pass
    assert problems(fields(secret=None), stored_secret=True) == {}
    assert problems(fields(), stored_secret=False) == {}


def test_the_mailbox_config_of_an_integration_maps_every_setting() -> None:
    given = fields(
        folder="Helpdesk",
        poll_interval_s=12.5,
        after_processing="move:Done",
        quarantine_folder="Q",
        auto_acknowledge=True,
        auto_ack_per_hour=7,
        auto_ack_own_domain=True,
        ignore_senders=("@marketing.example",),
        send_as=("agent@contoso.com",),
        send_as_fallback="mailbox",
        keep_raw_mime=True,
        record_token_format="[HD-{id}]",
        message_id_domain="mp.contoso.com",
    )
    box = mailbox_config(given, SecretStr(SECRET))
    assert (box.address, box.tenant_id, box.client_id) == ("support@contoso.com", TENANT, CLIENT)
    assert box.secret() == SecretStr(SECRET)
    assert (box.folder, box.poll_interval_s, box.after_processing) == (
        "Helpdesk",
        12.5,
        Move("Done"),
    )
    assert (box.quarantine_folder, box.auto_ack_per_hour) == ("Q", 7)
    assert box.auto_acknowledge and box.auto_ack_own_domain and box.keep_raw_mime
    assert box.ignore_senders == ("@marketing.example",)
    assert box.send_as == ()  # personal profiles not allowed: the agents are kept, not used
    assert box.send_as_fallback == "mailbox"
    assert (box.record_token_format, box.id_domain) == ("[HD-{id}]", "mp.contoso.com")
    allowed = mailbox_config(
        dataclasses.replace(given, allow_personal_profiles=True), SecretStr("s")
    )
    assert allowed.send_as == ("agent@contoso.com",)
    copy = mailbox_config(dataclasses.replace(given, copy_to_folder="Copies"), SecretStr("s"))
    assert copy.after_processing_action == CopyThenDelete("Copies")


def test_a_certificate_stays_in_memory() -> None:
    cert = self_signed()
    given = fields(credential_kind="certificate", certificate_pem=cert.cert_pem, secret=None)
    box = mailbox_config(given, SecretStr(cert.key_pem))
    assert box.secret() is None
    assert box.certificate_file is None and box.certificate_pem == cert.cert_pem
    assert box.certificate_key == SecretStr(cert.key_pem)
    assert cert.key_pem not in repr(box)


def test_reprs_show_no_secret() -> None:
    given = fields()
    assert SECRET not in repr(given)
    assert SECRET not in repr(mailbox_config(given, SecretStr(SECRET)))
    assert "**********" in repr(given)
