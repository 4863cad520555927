"""Pipelined publishing (``Broker.publish_many``): every message arrives once with its own
properties, returns are reported, and single and pipelined publishes mix on one channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from libs.common.broker import Broker, Publication
from libs.common.broker.names import routing_key
from libs.common.contracts import ProcessedEmail
from libs.common.errors import UnroutableError
from tests.broker_helpers import MAILBOX, drain, namespaced_broker, processed, publish_processed


@pytest.fixture(params=["amqp", "memory"])
def broker(request: pytest.FixtureRequest, namespace: str) -> Iterator[Broker]:
    url = request.getfixturevalue("amqp_url") if request.param == "amqp" else "memory://"
    with namespaced_broker(url, namespace, heartbeat_s=5, prefetch=5) as b:
        yield b


def _pub(broker: Broker, n: int, *, key: str | None = None, mandatory: bool = True) -> Publication:
    return Publication(
        broker.names.processed,
        key or routing_key("processed", MAILBOX),
        processed(n),
        f"corr-{n}",
        mandatory=mandatory,
    )


def test_every_message_arrives_once_with_its_properties(broker: Broker) -> None:
    ids = broker.publish_many([_pub(broker, n) for n in range(50)])
    assert len(set(ids)) == 50
    got = drain(broker, broker.names.fetcher_processed.name)
    assert len(got) == 50
    by_id = {m.properties["message_id"]: m for m in got}
    assert set(by_id) == set(ids)
    for n, message_id in enumerate(ids):
        message = by_id[message_id]
        assert message.properties["correlation_id"] == f"corr-{n}"
        assert message.properties["type"] == "mailpipe.processed_email.v2"
        assert message.properties["delivery_mode"] == 2
        assert message.content_type == "application/json"
        assert ProcessedEmail.from_json(message.body).message_id == f"msg-{n}"


def test_single_and_pipelined_publishes_mix(broker: Broker) -> None:
    publish_processed(broker, 0)
    broker.publish_many([_pub(broker, n) for n in range(1, 11)])
    publish_processed(broker, 11)
    broker.publish_many([_pub(broker, n) for n in range(12, 15)])
    got = drain(broker, broker.names.fetcher_processed.name)
    message_ids = sorted(ProcessedEmail.from_json(m.body).message_id for m in got)
    assert message_ids == sorted(f"msg-{n}" for n in range(15))


def test_an_unroutable_mandatory_message_fails_the_batch(broker: Broker) -> None:
    batch = [_pub(broker, 1), _pub(broker, 2, key="nobody.listens"), _pub(broker, 3)]
    with pytest.raises(UnroutableError):
        broker.publish_many(batch)
    # The publisher stays usable, and the next batch is not blamed for the old return.
    drain(broker, broker.names.fetcher_processed.name)
    broker.publish_many([_pub(broker, 4), _pub(broker, 5)])
    assert len(drain(broker, broker.names.fetcher_processed.name)) == 2


def test_an_unroutable_message_without_mandatory_is_dropped(broker: Broker) -> None:
    broker.publish_many([_pub(broker, 1, key="nobody.listens", mandatory=False), _pub(broker, 2)])
    (got,) = drain(broker, broker.names.fetcher_processed.name)
    assert ProcessedEmail.from_json(got.body).message_id == "msg-2"


def test_an_empty_batch_publishes_nothing(broker: Broker) -> None:
    assert broker.publish_many([]) == []
    assert drain(broker, broker.names.fetcher_processed.name) == []
