"""The broker URL's password never reaches a repr, an error or a log line, even when the
broker refuses it."""

from __future__ import annotations

import threading

import pytest
from structlog.testing import capture_logs

from libs.common.broker import Broker
from libs.common.contracts import ProcessedEmail
from libs.common.errors import BrokerError, ConfigError
from tests.broker_helpers import names_for, processed, wait_until

SECRET = "n0t-the-Passw0rd"


def _wrong_password(amqp_url: str) -> str:
    rest = amqp_url.split("@", 1)[1]
    return f"amqp://guest:{SECRET}@{rest}"


def test_refused_password_stays_out_of_errors_and_logs(amqp_url: str, namespace: str) -> None:
    broker = Broker(_wrong_password(amqp_url), names_for(namespace), publish_retries=1)
    assert SECRET not in repr(broker)
    assert "***" in repr(broker)
    stop = threading.Event()
    with capture_logs() as logs:
        with pytest.raises(BrokerError) as caught:
            broker.publish(broker.names.processed, "processed.x", processed(1), correlation_id="c")
        thread = threading.Thread(
            target=broker.consume,
            args=(broker.names.fetcher_processed, ProcessedEmail, lambda m, d: None),
            kwargs={"stop": stop},
        )
        thread.start()
        assert wait_until(lambda: any("reconnecting" in e["event"] for e in logs))
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    error = caught.value
    assert SECRET not in str(error) and SECRET not in repr(error)
    assert "ACCESS_REFUSED" in str(error).upper().replace("ACCESSREFUSED", "ACCESS_REFUSED")
    assert logs, "the failures were not logged"
    assert SECRET not in repr(logs)


def test_bad_url_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        Broker(f"redis://u:{SECRET}@host/0")
    assert SECRET not in str(caught.value)
    assert "redis://u:***@host/0" in str(caught.value)
