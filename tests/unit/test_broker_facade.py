"""Building a Broker connects to nothing, checks its arguments and hides the password."""

from __future__ import annotations

import pytest

from libs.common.broker import Broker, Names
from libs.common.errors import ConfigError


def test_construction_connects_to_nothing() -> None:
    # port 1 on a documentation address: any connection attempt would fail or hang
    broker = Broker("amqp://user:pw-secret@192.0.2.1:1//", Names("ns"), prefetch=3)
    assert broker.prefetch == 3
    assert broker.memory is False
    assert repr(broker) == "Broker('amqp://user:***@192.0.2.1:1//', namespace='ns')"


def test_memory_url_is_the_embedded_mode() -> None:
    broker = Broker("memory://")
    assert broker.memory is True
    assert broker.heartbeat_s == 0
    assert broker.names == Names()


@pytest.mark.parametrize("url", ["redis://localhost/0", "localhost:5672", ""])
def test_unsupported_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Broker(url)
    assert caught.value.hint


def test_prefetch_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        Broker("memory://", prefetch=0)
