"""Broker and database passwords from files (container secrets), never from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from kombu import Connection
from sqlalchemy.engine import make_url

from libs.common.errors import ConfigError
from libs.common.settings import Settings

AWKWARD = "p@ss:w/rd %?#&é"


def secret(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_passwords_come_from_the_files_and_survive_every_character(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILPIPE_AMQP_URL", "amqp://mailpipe@rabbitmq:5672//")
    monkeypatch.setenv("MAILPIPE_AMQP_PASSWORD_FILE", str(secret(tmp_path, "a", AWKWARD + "\n")))
    monkeypatch.setenv("MAILPIPE_DATABASE_URL", "postgresql+psycopg://mailpipe@postgres:5432/mp")
    monkeypatch.setenv("MAILPIPE_DATABASE_PASSWORD_FILE", str(secret(tmp_path, "d", AWKWARD)))
    settings = Settings()
    amqp = Connection(settings.amqp_url.get_secret_value())
    assert (amqp.userid, amqp.password, amqp.hostname, amqp.port) == (
        "mailpipe",
        AWKWARD,
        "rabbitmq",
        5672,
    )
    db = make_url(settings.database_url.get_secret_value())
    assert (db.username, db.password, db.host, db.database) == (
        "mailpipe",
        AWKWARD,
        "postgres",
        "mp",
    )
    assert AWKWARD not in repr(settings) and AWKWARD not in str(settings)


def test_without_a_file_the_url_is_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILPIPE_AMQP_URL", "amqp://u:p@h:5672//")
    monkeypatch.delenv("MAILPIPE_AMQP_PASSWORD_FILE", raising=False)
    assert Settings().amqp_url.get_secret_value() == "amqp://u:p@h:5672//"


@pytest.mark.parametrize(
    ("url", "content", "expected"),
    [
        ("amqp://u:already@h//", "x", "the URL carries a password too"),
        ("amqp://h:5672//", "x", "the URL names no user and host"),
        ("amqp://u@h//", "\n", "is empty"),
    ],
)
def test_each_mistake_is_one_line_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, content: str, expected: str
) -> None:
    monkeypatch.setenv("MAILPIPE_AMQP_URL", url)
    monkeypatch.setenv("MAILPIPE_AMQP_PASSWORD_FILE", str(secret(tmp_path, "a", content)))
    with pytest.raises(ConfigError) as caught:
        Settings()
    assert "MAILPIPE_AMQP_PASSWORD_FILE" in caught.value.message
    assert expected in caught.value.message
    assert "already" not in str(caught.value) and "\n" not in caught.value.message


def test_a_missing_file_says_which_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILPIPE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("MAILPIPE_DATABASE_PASSWORD_FILE", str(tmp_path / "nope"))
    with pytest.raises(ConfigError) as caught:
        Settings()
    assert "MAILPIPE_DATABASE_PASSWORD_FILE: cannot read password file" in caught.value.message
    assert caught.value.hint
