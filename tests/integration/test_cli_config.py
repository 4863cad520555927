"""``mailpipe config import|export|list`` and ``mailpipe secrets new-key`` on both databases:
import is idempotent by address and stores secrets sealed, export leaves every secret out and
is read back by the file-based loader once a credential is added."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from libs.common.db.integrations import Integrations
from libs.common.db.schema import metadata
from libs.common.secret_box import SecretBox, key_id
from libs.common.settings import load_config
from mailpipe.cli import app

TENANT = "6f1c7a5e-3d2b-4c8a-9e1f-0a2b3c4d5e6f"
CLIENT = "0d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60"
SECRET = "Qw8~abc.defGHIjklMNOpqrSTUvwxYZ0123456789"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def mailbox_file(path: Path, folder: str = "inbox", **extra: Any) -> Path:
    entries = {
        "address": "support@contoso.com",
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "client_secret": SECRET,
        "folder": folder,
        **extra,
    }
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in entries.items())
    path.write_text(f"[[mailboxes]]\n{body}\n")
    return path


@pytest.fixture
def key(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    made = run("secrets", "new-key")
    assert made.exit_code == 0
    value = made.stdout.strip()
    key_file = tmp_path / "secrets.key"
    key_file.write_text(value + "\n")
    monkeypatch.setenv("MAILPIPE_DATABASE_URL", database_url)
    monkeypatch.setenv("MAILPIPE_SECRETS_KEY_FILE", str(key_file))
    monkeypatch.delenv("MAILPIPE_SECRETS_KEY", raising=False)
    return value


def test_import_twice_updates_and_seals_the_secret(
    key: str, database_url: str, tmp_path: Path
) -> None:
    file = mailbox_file(tmp_path / "a.toml")
    first = run("config", "import", str(file))
    assert first.exit_code == 0, first.output
    assert first.stdout == "created integration 1 (support@contoso.com)\n"
    again = run("config", "import", str(mailbox_file(tmp_path / "b.toml", folder="Helpdesk")))
    assert again.stdout == "updated integration 1 (support@contoso.com)\n"
    repo = Integrations.open(database_url)
    try:
        [item] = repo.list()
        [config] = repo.to_mailbox_configs(SecretBox(key))
        with repo.engine.connect() as conn:
            sealed = conn.execute(
                select(metadata.tables["integrations"].c.sealed_secret)
            ).scalar_one()
    finally:
        repo.close()
    assert item.fields.folder == "Helpdesk" and config.secret() is not None
    assert config.secret().get_secret_value() == SECRET  # type: ignore[union-attr]
    assert SECRET not in sealed and sealed.startswith(f"f1:{key_id(key.encode())}:")
    listed = run("config", "list")
    assert listed.stdout.startswith(
        "1  support@contoso.com  support@contoso.com  enabled, both, secret"
    )
    assert SECRET not in listed.stdout


def test_export_leaves_secrets_out_and_reads_back(key: str, tmp_path: Path) -> None:
    file = mailbox_file(tmp_path / "a.toml", send_as=["agent@contoso.com"], auto_acknowledge=True)
    assert run("config", "import", str(file)).exit_code == 0
    out = tmp_path / "exported.toml"
    done = run("config", "export", "--out", str(out))
    assert done.exit_code == 0, done.output
    text = out.read_text()
    assert SECRET not in text and "NOT exported" in text
    assert run("config", "export").stdout == text
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    out.write_text(
        text.replace("[[mailboxes]]", f'[[mailboxes]]\nclient_secret_file = "{secret_file}"')
    )
    original, back = load_config(file).mailboxes[0], load_config(out).mailboxes[0]
    assert back.model_dump(exclude={"client_secret", "client_secret_file"}) == original.model_dump(
        exclude={"client_secret", "client_secret_file"}
    )


def test_refusals_are_one_line_without_the_secret(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pasted_id = mailbox_file(
        tmp_path / "id.toml", client_secret="2b8f1e44-5c3d-4a2b-9e8f-7a6b5c4d3e2f"
    )
    done = run("config", "import", str(pasted_id))
    assert done.exit_code == 2
    assert "this looks like the secret's ID; paste its Value" in done.output
    assert "2b8f1e44" not in done.output
    monkeypatch.delenv("MAILPIPE_SECRETS_KEY_FILE")
    no_key = run("config", "import", str(mailbox_file(tmp_path / "a.toml")))
    assert no_key.exit_code == 2
    assert (
        "set MAILPIPE_SECRETS_KEY_FILE to the key the integrations were saved with" in no_key.output
    )
    assert SECRET not in no_key.output and key not in no_key.output
    assert run("config", "list").stdout.startswith("no integrations yet")
