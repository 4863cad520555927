"""Outside failures at start become one typed error in the user's terms, without secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from amqp import exceptions as amqp_errors

from libs.common.db.errors import StoreError, StoreUnavailable
from libs.common.errors import BrokerError, ConfigError, PermanentError, UnroutableError
from libs.common.settings import Settings
from libs.common.startup import (
    broker_failure,
    broker_where,
    check_broker_url,
    explain,
    one_line,
    with_database_hint,
)

URL = "amqp://helpdesk:pa%40ss-w0rd@rabbit.internal:5673/prod"


def test_where_names_host_port_and_vhost_never_the_password() -> None:
    assert broker_where(URL) == "rabbit.internal:5673 (vhost 'prod')"
    assert broker_where("amqp://guest:guest@127.0.0.1//") == "127.0.0.1:5672"
    assert "memory://" in broker_where("memory://")


def test_refused_login_is_permanent_and_names_the_user() -> None:
    err = broker_failure(amqp_errors.AccessRefused("ACCESS_REFUSED"), URL, "mailpipe")
    assert isinstance(err, PermanentError) and not err.retryable
    assert "user 'helpdesk'" in err.message and "password" in (err.hint or "")
    assert "pa@ss" not in str(err) and "pa%40ss" not in str(err)


def test_unreachable_broker_is_retryable_with_the_socket_reason() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as inner:
            raise RuntimeError("kombu wrapper") from inner
    except RuntimeError as exc:
        err = broker_failure(exc, URL, "mailpipe")
    assert isinstance(err, BrokerError) and err.retryable
    assert err.message == "no broker answers at rabbit.internal:5673 (vhost 'prod'): " + (
        "Connection refused"
    )


def test_missing_exchange_means_the_namespace_was_never_declared() -> None:
    err = broker_failure(amqp_errors.NotFound("no exchange"), URL, "acme")
    assert isinstance(err, UnroutableError)
    assert "namespace 'acme'" in err.message and "MAILPIPE_NAMESPACE=acme" in (err.hint or "")
    assert "Broker.declare" not in str(err)


@pytest.mark.parametrize(
    ("driver_text", "expected"),
    [
        ('FATAL:  role "x" does not exist', "createuser"),
        ('FATAL:  database "x" does not exist', "createdb"),
        ('FATAL:  password authentication failed for user "x"', "password"),
        ("connection refused", "start the database server"),
    ],
)
def test_database_failures_get_the_hint_for_their_cause(driver_text: str, expected: str) -> None:
    err = with_database_hint(StoreUnavailable(f"database unavailable: {driver_text}"))
    assert expected in (err.hint or "")
    # Only a server that does not answer may answer later; a missing role stays missing.
    assert err.retryable == (driver_text == "connection refused")


def test_a_database_error_that_has_a_hint_keeps_it() -> None:
    err = StoreError('relation "x" does not exist', hint="run `mailpipe migrate`")
    assert explain(err) is err and err.hint == "run `mailpipe migrate`"


def test_a_bad_environment_variable_is_named_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILPIPE_PREFETCH", "lots")
    with pytest.raises(Exception) as caught:
        Settings()
    err = explain(caught.value)
    assert isinstance(err, ConfigError) and err.message.startswith("MAILPIPE_PREFETCH: ")


def test_unknown_exceptions_are_left_alone() -> None:
    assert explain(ZeroDivisionError()) is None


def test_one_line_folds_newlines_and_hides_url_passwords() -> None:
    text = one_line(RuntimeError("bad\nthing at amqp://u:hunter2@h//"))
    assert "\n" not in text and "hunter2" not in text


def test_a_service_needs_a_config_with_a_mailbox(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MAILPIPE_CONFIG is not set"):
        Settings(config=None).service_config()
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="no mailboxes configured"):
        Settings(config=empty).service_config()


BAD_URLS = ["amqp://u:pw-9z@127.0.0.1:notaport//", "amqp://u:pw-9z@[::1/"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_url_kombu_cannot_parse_is_a_config_error_without_the_password(url: str) -> None:
    from kombu import Connection

    with pytest.raises(ValueError) as raised:
        Connection(url).connect()
    error = broker_failure(raised.value, url, "mailpipe", setting="--broker-url")
    assert isinstance(error, ConfigError)
    assert "the broker URL in --broker-url is not valid" in error.message
    assert "pw-9z" not in one_line(error) and error.hint
    assert broker_where(url) == "the broker URL"  # describing it must not raise


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_url_sqlalchemy_cannot_parse_names_the_database_setting(url: str) -> None:
    from sqlalchemy import create_engine

    with pytest.raises(ValueError) as raised:
        create_engine(url.replace("amqp://", "postgresql+psycopg://"))
    error = explain(raised.value)
    assert isinstance(error, ConfigError)
    assert "MAILPIPE_DATABASE_URL is not valid" in error.message


def test_a_value_error_of_our_own_is_a_bug_and_keeps_its_traceback() -> None:
    with pytest.raises(ValueError) as raised:
        int("x")
    assert explain(raised.value) is None


@pytest.mark.parametrize("url", [*BAD_URLS, "http://x", "rabbit:5672"])
def test_a_broker_option_that_cannot_work_is_refused_naming_the_option(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        check_broker_url(url, "--broker-url")
    assert "--broker-url" in raised.value.message and "pw-9z" not in one_line(raised.value)


def test_a_good_broker_url_passes() -> None:
    check_broker_url(URL, "--broker-url")
    check_broker_url("memory://", "--broker-url")


def test_a_port_out_of_range_says_so() -> None:
    with pytest.raises(ConfigError) as raised:
        check_broker_url("amqp://u:pw-9z@127.0.0.1:99999//", "MAILPIPE_AMQP_URL")
    assert "port is not between 1 and 65535" in raised.value.message


def test_a_service_setting_is_named_with_its_own_prefix() -> None:
    from pydantic import ValidationError

    from libs.common.startup import settings_error
    from services.fetcher.config import FetcherSettings
    from services.sender.config import SenderSettings

    for model, name, value in (
        (FetcherSettings, "poll_threads", 0),
        (SenderSettings, "rate_per_minute", 0),
    ):
        try:
            model.model_validate({name: value})
        except ValidationError as exc:
            error = settings_error(exc)
        else:
            raise AssertionError(f"{model.__name__} took {name}={value}")
        prefix = str(model.model_config["env_prefix"])
        assert str(error).startswith(f"{prefix}{name.upper()}: "), str(error)
