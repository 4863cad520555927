"""Settings: one clear line for each configuration mistake, and no secret in any output."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
import structlog

from libs.common.after_processing import CopyThenDelete, Move
from libs.common.errors import ConfigError
from libs.common.logging import configure_logging
from libs.common.settings import Settings, load_config

GOOD = """
[graph]
base_url = "https://127.0.0.1:8443/v1.0"
authority_host = "https://127.0.0.1:8443"

[[mailboxes]]
address = "Support@Contoso.com"
tenant_id = "contoso-tenant"
client_id = "app-1"
client_secret = "s3cr3t-value-xyz"
after_processing = "move:Processed"
copy_to_folder = "Archive"
send_as = ["agent@contoso.com"]
ignore_senders = ["*.spam.example", "noreply@contoso.com"]
"""


def write(tmp_path: Path, text: str, name: str = "mailpipe.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "\n" not in text, text
    return text


def test_good_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    box = config.mailbox("support@contoso.com")
    assert box.address == "support@contoso.com"
    assert box.after_processing == Move("Processed")
    assert box.copy_to_folder == "Archive"
    assert box.after_processing_action == CopyThenDelete("Archive")  # a copy wins over a move
    assert box.send_as == ("agent@contoso.com",)
    secret = box.secret()
    assert secret is not None and secret.get_secret_value() == "s3cr3t-value-xyz"
    assert config.graph.base_url == "https://127.0.0.1:8443/v1.0"


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[[mailboxes]\naddress = ")
    text = one_line_error(path)
    assert str(path) in text and "not valid TOML" in text


def test_missing_key_names_key_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('tenant_id = "contoso-tenant"\n', ""))
    text = one_line_error(path)
    assert str(path) in text
    assert "mailboxes[0].tenant_id" in text
    assert "s3cr3t" not in text


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "polll_interval_s = 5\n")
    text = one_line_error(path)
    assert "mailboxes[0].polll_interval_s" in text


def test_bad_values_are_named(tmp_path: Path) -> None:
    text = one_line_error(write(tmp_path, GOOD.replace("move:Processed", "shred")))
    assert "mailboxes[0].after_processing" in text
    text = one_line_error(write(tmp_path, GOOD.replace('"agent@contoso.com"', '"not-an-address"')))
    assert "mailboxes[0].send_as" in text
    text = one_line_error(write(tmp_path, GOOD.replace("https://127.0.0.1:8443/v1.0", "http://x")))
    assert "graph.base_url" in text and "https" in text


def test_missing_file(tmp_path: Path) -> None:
    text = one_line_error(tmp_path / "nope.toml")
    assert "nope.toml" in text and "MAILPIPE_CONFIG" in text


def test_unreadable_secret_file(tmp_path: Path) -> None:
    config = GOOD.replace(
        'client_secret = "s3cr3t-value-xyz"', f'client_secret_file = "{tmp_path}/missing-secret"'
    )
    text = one_line_error(write(tmp_path, config))
    assert "mailboxes[0].client_secret_file" in text and "missing-secret" in text


def test_secret_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("from-a-file\n")
    config = GOOD.replace(
        'client_secret = "s3cr3t-value-xyz"', f'client_secret_file = "{tmp_path}/secret"'
    )
    box = load_config(write(tmp_path, config)).mailboxes[0]
    secret = box.secret()
    assert secret is not None and secret.get_secret_value() == "from-a-file"


def test_no_credential_or_two_credentials(tmp_path: Path) -> None:
    text = one_line_error(write(tmp_path, GOOD.replace('client_secret = "s3cr3t-value-xyz"\n', "")))
    assert "no credential" in text
    both = GOOD.replace(
        'client_secret = "s3cr3t-value-xyz"',
        'client_secret = "a"\ncertificate_file = "c.pem"\ncertificate_key_file = "k.pem"',
    )
    assert "not both" in one_line_error(write(tmp_path, both))


def test_duplicate_mailbox(tmp_path: Path) -> None:
    block = GOOD[GOOD.index("[[mailboxes]]") :]
    assert "configured twice" in one_line_error(write(tmp_path, GOOD + block))


def test_env_settings_prefix_and_nesting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILPIPE_AMQP_URL", "amqp://user:hunter2@rabbit:5672//")
    monkeypatch.setenv("MAILPIPE_NAMESPACE", "acme")
    monkeypatch.setenv("MAILPIPE_PREFETCH", "7")
    settings = Settings()
    assert settings.namespace == "acme" and settings.prefetch == 7
    assert settings.amqp_url.get_secret_value() == "amqp://user:hunter2@rabbit:5672//"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)


def test_secrets_absent_from_repr_and_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert "s3cr3t" not in repr(config)
    assert "s3cr3t" not in str(config.mailboxes[0])
    assert "s3cr3t" not in config.model_dump_json()
    configure_logging("test")
    try:
        log = structlog.get_logger("t")
        log.info("loaded", mailbox=config.mailboxes[0], secret=config.mailboxes[0].client_secret)
        log.info("connecting", url="amqp://guest:hunter2@127.0.0.1:5672//", client_secret="raw")
        logging.getLogger("kombu").warning("url amqp://guest:hunter2@host//")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in io.StringIO(out) if line.strip()]
    assert len(lines) == 3
    assert "s3cr3t" not in out and "hunter2" not in out and '"raw"' not in out
    assert lines[1]["url"] == "amqp://guest:***@127.0.0.1:5672//"


def test_empty_config_variable_means_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILPIPE_CONFIG", "")
    settings = Settings()
    assert settings.config is None
    assert settings.load_config().mailboxes == ()
