"""Hostile or broken job publishes over a real RabbitMQ: what the wire carries besides the body
(the AMQP properties and headers a publisher sets) and what the sender answers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from kombu import Exchange

from libs.common.broker import Broker, routing_key
from libs.common.contracts import OutboundEmail
from libs.graphsim.testing import SimHandle
from tests.broker_helpers import drain, wait_until
from tests.integration.test_sender_support import (
    MAILBOX,
    Results,
    make_job,
    publish_job,
    run_sender,
    sent_list,
)


def publish_wire(broker: Broker, body: bytes, **properties: Any) -> None:
    """``body`` as another system publishes it: on the outbound exchange, with the properties
    given (``headers`` included) over the documented ones."""
    props: dict[str, Any] = {
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "delivery_mode": 2,
        "type": OutboundEmail.SCHEMA,
    }
    props.update(properties)
    conn = broker.connection()
    try:
        conn.connect()
        conn.Producer().publish(
            body,
            exchange=Exchange(broker.names.outbound, type="topic", passive=True),
            routing_key=routing_key("outbound", MAILBOX),
            **props,
        )
    finally:
        conn.release()


def _without_job_id() -> bytes:
    data = json.loads(make_job("unused").to_json())
    del data["job_id"]
    return json.dumps(data).encode()


def test_a_job_without_job_id_is_answered_under_its_correlation_id(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    with run_sender(sim, broker, db_url, tmp_path):
        publish_wire(broker, _without_job_id(), correlation_id="crm-77", message_id="m-77")
        publish_wire(broker, b"\x00 not json", message_id="m-78")
        publish_wire(broker, b"[]")  # nothing to answer under: parked and logged only
        publish_job(broker, make_job("job-after"))
        assert results.wait_for("job-after").status == "sent"
        first, second = results.wait_for("crm-77"), results.wait_for("m-78")
        assert wait_until(lambda: len(drain(broker, broker.names.sender.dead)) == 3)
    for result in (first, second):
        assert (result.status, result.error_code) == ("rejected", "contract_violation")
    assert "correlation_id" in (first.detail or "") and "message_id" in (second.detail or "")
    assert [e["headers"]["X-Mailpipe-Job-Id"] for e in sent_list(sim)] == ["job-after"]


def test_hostile_bodies_and_properties_are_answered_and_the_queue_flows(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    job = make_job("job-gzip").to_json()
    with run_sender(sim, broker, db_url, tmp_path):
        publish_wire(broker, gzip.compress(job), content_encoding="gzip", correlation_id="c-gz")
        publish_wire(broker, b"[" * 100_000, correlation_id="c-deep")
        publish_wire(broker, job[:-1] + b', "job_id": "job-twice"}', correlation_id="c-dup")
        publish_job(broker, make_job("job-after"))
        assert results.wait_for("job-after").status == "sent"
        gz, deep, dup = (results.wait_for(key) for key in ("c-gz", "c-deep", "c-dup"))
        assert wait_until(lambda: len(drain(broker, broker.names.sender.dead)) == 3)
    assert "content_encoding 'gzip'" in (gz.error_message or "")
    assert "nested more than" in (deep.error_message or "")
    assert "'job_id' appears twice" in (dup.error_message or "")
    assert [e["headers"]["X-Mailpipe-Job-Id"] for e in sent_list(sim)] == ["job-after"]


def test_a_forged_attempt_count_does_not_skip_the_retries(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    """A publisher's ``x-mailpipe-attempt`` would make a job that fails once (Graph's answer
    lost) be given up at once; it is ignored, so the job is retried and sent, and never
    parked in the dead-letter queue."""
    with sim.control() as control:
        control.post("/_sim/faults", json={"lose_send_responses": 1}).raise_for_status()
    forged = {"x-mailpipe-attempt": 50}
    with run_sender(sim, broker, db_url, tmp_path):
        publish_wire(broker, make_job("job-forged").to_json(), headers=forged)
        result = results.wait_for("job-forged")
    assert result.status == "sent" and result.attempts == 2
    assert drain(broker, broker.names.sender.dead) == []
    assert [e["headers"]["X-Mailpipe-Job-Id"] for e in sent_list(sim)] == ["job-forged"]
