"""The ``[push]`` table: optional, https only, the derived URLs, which mailboxes it covers,
a mistake named in one line."""

from __future__ import annotations

from pathlib import Path

from libs.common.settings import load_config
from tests.unit.test_settings import GOOD, one_line_error, write


def test_no_push_table_means_polling_only(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, GOOD)).push is None


def test_the_push_table_and_its_urls(tmp_path: Path) -> None:
    text = GOOD + '\n[push]\npublic_url = "https://hooks.example.com/graph/"\n'
    push = load_config(write(tmp_path, text)).push
    assert push is not None
    assert push.notification_url == "https://hooks.example.com/graph/notifications"
    assert push.lifecycle_url == "https://hooks.example.com/graph/lifecycle"
    assert push.safety_interval_s == 300.0
    assert push.covers("support@contoso.com") and push.covers("anyone@contoso.com")


def test_push_for_some_mailboxes(tmp_path: Path) -> None:
    text = GOOD + (
        '\n[push]\npublic_url = "https://h.example.com"\nsafety_interval_s = 120\n'
        'mailboxes = ["Support@Contoso.com"]\n'
    )
    push = load_config(write(tmp_path, text)).push
    assert push is not None and push.safety_interval_s == 120.0
    assert push.covers("support@contoso.com") and not push.covers("other@contoso.com")


def test_a_plain_http_url_or_unknown_key_is_named(tmp_path: Path) -> None:
    text = GOOD + '\n[push]\npublic_url = "http://hooks.example.com"\n'
    assert "push.public_url" in one_line_error(write(tmp_path, text))
    text = GOOD + '\n[push]\npublic_url = "https://h.example.com"\nclient_state = "x"\n'
    assert "push.client_state" in one_line_error(write(tmp_path, text, "b.toml"))


def test_plain_http_only_when_allowed_on_purpose(tmp_path: Path) -> None:
    text = GOOD + '\n[push]\npublic_url = "http://127.0.0.1:8026/"\nallow_http = true\n'
    push = load_config(write(tmp_path, text)).push
    assert push is not None and push.allow_http
    assert push.notification_url == "http://127.0.0.1:8026/notifications"
    text = GOOD + '\n[push]\npublic_url = "ftp://h.example.com"\nallow_http = true\n'
    assert "push.public_url" in one_line_error(write(tmp_path, text, "b.toml"))
