"""No credential reaches a log line: not in tracebacks, nested values, exception objects,
stdlib records with exc_info, or URL query strings."""

from __future__ import annotations

import json
import logging

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.logging import configure_logging
from libs.common.redact import _redact_text, redact_url, redact_value, secret_key

URL = "amqp://guest:hunter2@127.0.0.1:5672//"


def _fail() -> None:
    raise ConnectionError(f"cannot reach {URL}")


def test_tracebacks_nested_values_and_exceptions_are_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("test")
    try:
        log = structlog.get_logger("t")
        try:
            _fail()
        except ConnectionError as exc:
            log.exception("structlog traceback")
            log.error("exception object", error=exc)
            logging.getLogger("kombu").error("stdlib traceback", exc_info=True)
        log.info("nested", attempts=[{"url": URL}], pair=("x", URL), count=3)
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    out = capsys.readouterr().out
    events = [json.loads(x) for x in out.splitlines() if x.strip()]
    assert [e["event"] for e in events] == [
        "structlog traceback",
        "exception object",
        "stdlib traceback",
        "nested",
    ]
    assert "hunter2" not in out
    assert "ConnectionError" in events[0]["exception"]  # the traceback is still there
    assert "ConnectionError" in events[2]["exception"]
    assert events[1]["error"] == "ConnectionError: cannot reach amqp://guest:***@127.0.0.1:5672//"
    assert events[3]["attempts"] == [{"url": "amqp://guest:***@127.0.0.1:5672//"}]
    assert events[3]["count"] == 3


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("amqp://u:p@ss@host:5672/vh", "amqp://u:***@host:5672/vh"),
        (
            "postgresql://u@h/db?password=hunter2&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("write to bob@example.com", "write to bob@example.com"),
        (
            "amqp://a:b@h// then postgresql://p:q@db/x",
            "amqp://a:***@h// then postgresql://p:***@db/x",
        ),
        ("https://b/x?sv=1&sig=abc%2F&se=2", "https://b/x?sv=1&sig=***&se=2"),
        ("https://app/cb?code=0.AXo&state=s", "https://app/cb?code=***&state=s"),
        ("https://app/cb#access_token=eyJ&x=1", "https://app/cb#access_token=***&x=1"),
        ("https://h/a?TOKEN=t1&X-Amz-Signature=s1", "https://h/a?TOKEN=***&X-Amz-Signature=***"),
        ("Authorization: Bearer hunter2pw", "Authorization: ***"),
        ("graph said 401 to bearer hunter2pw.", "graph said 401 to bearer ***"),
        ("X-Api-Key=k1, then", "X-Api-Key=***, then"),
        ("Cookie: a=1; b=2", "Cookie: ***"),
        ("error code=graph_throttled", "error code=graph_throttled"),
    ],
)
def test_redact_url_cases(text: str, safe: str) -> None:
    assert redact_url(text) == safe


def test_redact_value_walks_containers() -> None:
    assert redact_value({"a": [URL, 1, None]}) == {
        "a": ["amqp://guest:***@127.0.0.1:5672//", 1, None]
    }


def test_database_urls_hide_query_passwords_too() -> None:
    from libs.common.db import safe_url

    shown = safe_url("postgresql+psycopg://u:pw1@h/db?password=hunter2&sslmode=require")
    assert "pw1" not in shown and "hunter2" not in shown and "sslmode=require" in shown


@pytest.mark.parametrize(
    "name", ["X-Api-Key", "api_key", "Authorization", "client_secret", "sig", "Set-Cookie"]
)
def test_secret_names_are_known_whatever_their_spelling(name: str) -> None:
    assert secret_key(name) and secret_key(name.upper()) and secret_key(name.replace("-", "_"))


@pytest.mark.parametrize("name", ["subject", "job_id", "design", "error_code", "reason"])
def test_ordinary_names_are_not_secret(name: str) -> None:
    assert not secret_key(name)


# Pieces of everything the four patterns look for, mixed with harmless text, so that the
# drawn strings reach every pattern's edges (case, separators, "=" and ":" without a secret).
_PIECES = st.sampled_from(
    [
        "amqp://",
        "HTTPS://",
        "u:",
        "p@",
        "@h/",
        "?",
        "&",
        "#",
        ";",
        "password=",
        "Token=",
        "sig=",
        "x-amz-signature=",
        "=",
        ":",
        " ",
        "\n",
        "Authorization: ",
        "api-key=",
        "X-Api-Key:",
        "Set-Cookie: a=b",
        "cookie=",
        "Bearer ",
        "bearer\t",
        "abc",
        "AAk=",
        "mailbox@contoso.com",
        "2026-12-03T16:37:17Z",
        "<id@host>",
        "/",
        ",",
        '"',
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES | st.text(max_size=4), max_size=12).map("".join))
def test_the_quick_check_lets_through_only_what_the_patterns_would_leave(text: str) -> None:
    assert redact_url(text) == _redact_text(text)


def test_own_processor_keys_are_kept_and_secret_keys_hidden(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("test")
    try:
        structlog.get_logger("t").info("x", api_token="s3cret", note="plain")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["api_token"] == "**********" and line["note"] == "plain"
    assert line["level"] == "info" and line["timestamp"].endswith("Z")
