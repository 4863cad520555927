"""Where the console finds its integrations (services/web/mailboxes.py): the database with the
secrets key, or the file's mailboxes read-only; no key with the database source is refused
before the database is opened."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from libs.common.secret_box import SecretsKeyError, new_key
from libs.common.settings import Settings
from libs.graphsim.testing import SimHandle
from services.web.mailboxes import open_mailboxes


def _settings(database_url: str, **values: object) -> Settings:
    return Settings(database_url=SecretStr(database_url), **values)  # type: ignore[arg-type]


def _config_file(tmp_path: Path, sim: SimHandle) -> Path:
    path = tmp_path / "mailpipe.toml"
    path.write_text(
        f'[graph]\nbase_url = "{sim.base_url}"\nauthority_host = "{sim.authority_host}"\n'
        f'ca_bundle = "{sim.ca_bundle}"\n\n[[mailboxes]]\naddress = "support@contoso.com"\n'
        f'tenant_id = "{sim.tenant_id}"\nclient_id = "{sim.client_id}"\n'
        f'client_secret = "{sim.client_secret}"\n',
        encoding="utf-8",
    )
    return path


def test_the_file_source_is_read_only(tmp_path: Path, graphsim: SimHandle) -> None:
    config = _config_file(tmp_path, graphsim)
    found = open_mailboxes(_settings(f"sqlite:///{tmp_path}/db.sqlite", config=config))
    assert not found.editable and found.store is None
    assert [b.address for b in found.file_mailboxes] == ["support@contoso.com"]
    assert found.graph.base_url == graphsim.base_url


def test_the_database_source_needs_the_secrets_key(database_url: str) -> None:
    with pytest.raises(SecretsKeyError, match="no secrets key"):
        open_mailboxes(_settings(database_url, config_source="database"))
    key = SecretStr(new_key())
    found = open_mailboxes(_settings(database_url, config_source="database", secrets_key=key))
    try:
        assert found.editable and found.store is not None and found.store.list() == ()
    finally:
        found.close()
