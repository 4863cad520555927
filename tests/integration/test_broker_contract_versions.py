"""Two versions of a contract on one queue (docs/publishing-jobs.md, "Evolving the
contracts"): a version-1 message still queued or parked is consumed as version 2, and a
broker told to publish the previous version (a rolling upgrade) writes version 1."""

from __future__ import annotations

import json

from libs.common.broker import Broker
from libs.common.contracts import ProcessedEmail
from tests.broker_helpers import (
    Recorder,
    consuming,
    drain,
    namespaced_broker,
    processed,
    publish_processed,
    publish_raw,
    wait_until,
)


def test_a_version_1_message_is_handled_as_version_2(broker: Broker) -> None:
    v1 = json.loads(processed(7).downgrade().to_json())  # type: ignore[union-attr]
    assert v1["schema"] == "mailpipe.processed_email.v1" and v1["graph_id"] == "msg-7"
    queue = broker.names.fetcher_processed
    publish_raw(broker, queue, json.dumps(v1).encode(), correlation_id="old")
    publish_processed(broker, 8)
    recorder = Recorder()
    with consuming(broker, queue, recorder):
        assert wait_until(lambda: len(recorder.seen) == 2)
    got = {m.message_id: m for m, _ in recorder.seen}
    assert set(got) == {"msg-7", "msg-8"} and recorder.invalid == []
    assert all(isinstance(m, ProcessedEmail) and m.provider == "microsoft" for m in got.values())


def test_publishing_the_previous_version_for_consumers_not_yet_upgraded(
    amqp_url: str, namespace: str
) -> None:
    with namespaced_broker(amqp_url, namespace, publish_previous=True) as old_style:
        publish_processed(old_style, 3)
        [got] = drain(old_style, old_style.names.fetcher_processed.name)
    body = json.loads(got.body)
    assert got.properties["type"] == body["schema"] == "mailpipe.processed_email.v1"
    assert body["graph_id"] == "msg-3" and "message_id" not in body and "provider" not in body
    read = ProcessedEmail.from_json(got.body)
    assert (read.provider, read.message_id, read.record_id) == ("microsoft", "msg-3", 4)
