"""``mailpipe config import|export`` of a Google mailbox: the service account key is read from
its file and stored sealed, never listed or exported; the export reads back once the key file
is named again, the send-as mode (impersonate or alias) kept; the database source keeps the
file's ``[google]`` table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from libs.common.config_source import service_config
from libs.common.config_source import watcher as watcher_of
from libs.common.db.integrations import Integrations
from libs.common.db.schema import metadata
from libs.common.secret_box import SecretBox
from libs.common.settings import Settings, load_config
from libs.gmailsim.accounts import new_account, new_key
from tests.integration.test_cli_config import key, run

__all__ = ["key"]  # the fixture, shared with test_cli_config

KEY = new_key(new_account("helpdesk"), "https://oauth2.googleapis.com/token")
PRIVATE = KEY["private_key"].splitlines()[1]  # a line of the PEM body


def google_file(tmp_path: Path, **extra: Any) -> Path:
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(KEY))
    entries = {
        "address": "support@example.com",
        "provider": "google",
        "service_account_key_file": str(key_file),
        "folder": "Helpdesk",
        "send_as": ["agent@example.com"],
        **extra,
    }
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in entries.items())
    path = tmp_path / "google.toml"
    path.write_text(f"[[mailboxes]]\n{body}\n")
    return path


def test_a_google_mailbox_round_trips_with_its_key_sealed(
    key: str, database_url: str, tmp_path: Path
) -> None:
    file = google_file(tmp_path)
    done = run("config", "import", str(file))
    assert done.exit_code == 0, done.output
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
    assert item.fields.provider == "google" and item.fields.credential_kind == "service_account"
    assert item.fields.tenant_id == "" and item.fields.client_id == ""
    assert config.provider == "google" and config.service_account_info() == KEY
    assert PRIVATE not in sealed and KEY["private_key_id"] not in sealed
    listed = run("config", "list").stdout
    assert "support@example.com" in listed and PRIVATE not in listed
    out = tmp_path / "exported.toml"
    assert run("config", "export", "--out", str(out)).exit_code == 0
    text = out.read_text()
    assert PRIVATE not in text and "tenant_id" not in text
    assert "# service_account_key: not exported" in text
    key_line = f'[[mailboxes]]\nservice_account_key_file = "{tmp_path / "sa.json"}"'
    out.write_text(text.replace("[[mailboxes]]", key_line))
    original, back = load_config(file).mailboxes[0], load_config(out).mailboxes[0]
    assert back == original


def test_an_alias_mode_google_mailbox_round_trips(
    key: str, database_url: str, tmp_path: Path
) -> None:
    file = google_file(tmp_path, google_send_as="alias")
    assert run("config", "import", str(file)).exit_code == 0
    repo = Integrations.open(database_url)
    try:
        [config] = repo.to_mailbox_configs(SecretBox(key))
    finally:
        repo.close()
    assert config.google_send_as == "alias" and config.send_as == ("agent@example.com",)
    text = run("config", "export").stdout
    assert 'google_send_as = "alias"' in text
    out = tmp_path / "exported.toml"
    key_line = f'[[mailboxes]]\nservice_account_key_file = "{tmp_path / "sa.json"}"'
    out.write_text(text.replace("[[mailboxes]]", key_line))
    assert load_config(out).mailboxes[0] == load_config(file).mailboxes[0]


def test_a_key_that_is_not_a_service_account_key_is_refused(key: str, tmp_path: Path) -> None:
    file = google_file(tmp_path)
    (tmp_path / "sa.json").write_text(json.dumps(dict(KEY, type="authorized_user")))
    done = run("config", "import", str(file))
    assert done.exit_code == 2
    assert "not a Google service account key" in done.output and PRIVATE not in done.output


def test_the_database_source_keeps_the_files_google_table(
    key: str, database_url: str, tmp_path: Path
) -> None:
    assert run("config", "import", str(google_file(tmp_path))).exit_code == 0
    tables = tmp_path / "providers.toml"
    tables.write_text('[google]\napi_url = "https://gmail.example.test"\nunits_per_s = 50\n')
    settings = Settings(
        database_url=SecretStr(database_url),
        config_source="database",
        secrets_key=SecretStr(key),
        config=tables,
    )
    config = service_config(settings, wait=False)
    assert config.google.api_url == "https://gmail.example.test"
    assert config.google.units_per_s == 50
    assert [b.provider for b in config.mailboxes] == ["google"]
    watcher, close = watcher_of(settings, config)
    try:
        assert watcher is not None
        assert run("config", "import", str(google_file(tmp_path, folder="Other"))).exit_code == 0
        assert watcher.check() is not None
        now = watcher.current
        assert now.mailboxes[0].folder == "Other" and now.google == config.google
    finally:
        close()
