"""The mailbox file and integrations, both ways: an imported file keeps every setting and
reads its secret files; an export is TOML the file-based loader reads once a credential is
added, and it holds no secret and no private key."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from libs.common.integration_rules import Integration, IntegrationFields, mailbox_config
from libs.common.integration_toml import export_toml, fields_of, imported
from libs.common.settings import load_config
from tests.certs import self_signed

TENANT = "6f1c7a5e-3d2b-4c8a-9e1f-0a2b3c4d5e6f"
CLIENT = "0d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60"
SECRET = "Qw8~abc.defGHIjklMNOpqrSTUvwxYZ0123456789"
NOW = datetime(2026, 12, 3, tzinfo=UTC)

FILE = f"""
[[mailboxes]]
address = "support@contoso.com"
tenant_id = "{TENANT}"
client_id = "{CLIENT}"
client_secret_file = "SECRET_FILE"
folder = "Helpdesk"
poll_interval_s = 12.5
after_processing = "move:Done"
copy_to_folder = "Copies"
send_as = ["agent@contoso.com"]
send_as_fallback = "mailbox"
ignore_senders = ["@marketing.example", "*.news.example"]
auto_acknowledge = true
auto_ack_per_hour = 5
record_token_format = "[HD-{{id}}] \\"quoted\\""
"""


def _stored(fields: IntegrationFields, ident: int = 1) -> Integration:
    return Integration(ident, dataclasses.replace(fields, secret=None), 1, NOW, NOW)


def test_an_imported_file_keeps_every_setting_and_reads_its_secret_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    path = tmp_path / "mailpipe.toml"
    path.write_text(FILE.replace("SECRET_FILE", str(secret_file)))
    config = load_config(path)
    [fields] = imported(config)
    assert (fields.name, fields.credential_kind) == ("support@contoso.com", "secret")
    assert fields.secret == SecretStr(SECRET)
    assert fields.allow_personal_profiles and fields.send_as == ("agent@contoso.com",)
    rebuilt = mailbox_config(fields, SecretStr(SECRET))
    assert rebuilt.model_dump(exclude={"client_secret_file", "client_secret"}) == config.mailboxes[
        0
    ].model_dump(exclude={"client_secret_file", "client_secret"})


def test_an_export_is_read_back_once_a_credential_is_added(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    path = tmp_path / "mailpipe.toml"
    path.write_text(FILE.replace("SECRET_FILE", str(secret_file)))
    original = load_config(path)
    text = export_toml([_stored(f) for f in imported(original)])
    assert SECRET not in text and str(secret_file) not in text
    assert "Secrets and private keys are NOT exported" in text
    tomllib.loads(text)
    filled = text.replace(
        "[[mailboxes]]", "[[mailboxes]]\nclient_secret_file = " + f'"{secret_file}"'
    )
    out = tmp_path / "exported.toml"
    out.write_text(filled)
    assert load_config(out) == original


def test_a_certificate_exports_its_public_pem_only_and_a_disabled_one_is_a_comment(
    tmp_path: Path,
) -> None:
    cert = self_signed()
    cert_file, key_file = cert.write(tmp_path)
    path = tmp_path / "mailpipe.toml"
    path.write_text(
        f'[[mailboxes]]\naddress = "a@contoso.com"\ntenant_id = "contoso.com"\n'
        f'client_id = "{CLIENT}"\ncertificate_file = "{cert_file}"\n'
        f'certificate_key_file = "{key_file}"\n'
    )
    [fields] = imported(load_config(path))
    assert fields.credential_kind == "certificate"
    assert fields.certificate_pem == cert.cert_pem and fields.secret == SecretStr(cert.key_pem)
    disabled = dataclasses.replace(fields, name="old", address="b@contoso.com", enabled=False)
    text = export_toml([_stored(fields), _stored(disabled, 2)])
    assert "PRIVATE KEY" not in text
    data = tomllib.loads(text)
    [exported] = data["mailboxes"]  # the disabled one is commented out
    assert exported["certificate_pem"] == cert.cert_pem
    assert "# integration 'old' (disabled)" in text
    exported["certificate_key"] = cert.key_pem
    back = tmp_path / "back.toml"
    back.write_text(export_toml([]) + f"\n[[mailboxes]]\n{_inline(exported)}")
    assert load_config(back).mailboxes[0].certificate_pem == cert.cert_pem


def _inline(table: dict[str, object]) -> str:
    import json

    return "\n".join(f"{k} = {json.dumps(v)}" for k, v in table.items())


def test_fields_of_a_config_with_the_certificate_in_memory() -> None:
    cert = self_signed()
    box = mailbox_config(
        IntegrationFields(
            name="n",
            address="a@contoso.com",
            tenant_id=TENANT,
            client_id=CLIENT,
            credential_kind="certificate",
            certificate_pem=cert.cert_pem,
        ),
        SecretStr(cert.key_pem),
    )
    fields = fields_of(box)
    assert (fields.certificate_pem, fields.secret) == (cert.cert_pem, SecretStr(cert.key_pem))
