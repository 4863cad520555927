"""The send policy's holes, closed, through the real sender and RabbitMQ: the routing key is
the job's authority, display names cannot pose as addresses, a record belongs to its mailbox,
a blob is as big as it is, and a job id seen before keeps its first answer."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert

from libs.common.blobs import BlobStore
from libs.common.broker import Broker, routing_key
from libs.common.broker.policy import HEADER_ROUTING_KEY
from libs.common.contracts import OutboundResult
from libs.common.db.schema import records
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

HELPDESK = "helpdesk@contoso.com"


def answer_of(results: Results, job_id: str) -> OutboundResult:
    """The one answer of ``job_id`` (a second one would be a defect)."""
    first = results.wait_for(job_id)
    assert len(results.of(job_id)) == 1, results.of(job_id)
    return first


def nothing_sent(sim: SimHandle) -> bool:
    return sent_list(sim) == [] and sent_list(sim, HELPDESK) == []


def test_a_job_for_another_mailbox_than_its_routing_key_is_rejected(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    job = make_job("job-key", mailbox=HELPDESK)
    with run_sender(sim, broker, db_url, tmp_path):
        # Allowed to publish for support@ only; the job names helpdesk@, and so does a header.
        forged = {HEADER_ROUTING_KEY: routing_key("outbound", HELPDESK)}
        for job_id, headers in (("job-key", None), ("job-key-forged", forged)):
            broker.publish(
                broker.names.outbound,
                routing_key("outbound", MAILBOX),
                job.model_copy(update={"job_id": job_id}),
                correlation_id=job_id,
                headers=headers,
            )
        key, forged_key = answer_of(results, "job-key"), answer_of(results, "job-key-forged")
        publish_job(broker, make_job("job-right-key", mailbox=HELPDESK))
        assert answer_of(results, "job-right-key").status == "sent"
    for answer in (key, forged_key):
        assert answer.status == "rejected" and answer.error_code == "routing_key_mismatch"
        assert [a.address for a in answer.to] == [job.to[0].address]
    assert sent_list(sim) == [] and len(sent_list(sim, HELPDESK)) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"from_name": "ceo@contoso.com <ceo@contoso.com>"},
        {"to": [{"address": "customer@example.org", "name": "ceo@contoso.com"}]},
    ],
)
def test_a_display_name_posing_as_an_address_is_never_sent(
    fields: dict[str, Any],
    sim: SimHandle,
    broker: Broker,
    results: Results,
    db_url: str,
    tmp_path: Path,
) -> None:
    with run_sender(sim, broker, db_url, tmp_path):
        publish_job(broker, make_job("job-name", **fields))
        answer = answer_of(results, "job-name")
    assert answer.status == "rejected" and answer.error_code == "display_name_not_allowed"
    assert nothing_sent(sim)


def test_a_record_of_another_mailbox_is_refused(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    with run_sender(sim, broker, db_url, tmp_path):
        now = datetime.now(UTC)
        engine = create_engine(db_url)
        with engine.begin() as conn:
            record_id = conn.execute(
                insert(records)
                .values(mailbox=MAILBOX, created_at=now, updated_at=now)
                .returning(records.c.id)
            ).scalar_one()
        engine.dispose()
        publish_job(broker, make_job("job-other", mailbox=HELPDESK, record_id=record_id))
        publish_job(broker, make_job("job-none", record_id=record_id + 1000))
        other, none = answer_of(results, "job-other"), answer_of(results, "job-none")
        assert nothing_sent(sim)
        publish_job(broker, make_job("job-own", record_id=record_id))
        assert answer_of(results, "job-own").status == "sent"
    assert other.error_code == none.error_code == "record_not_in_mailbox"
    assert f"record {record_id} belongs to another mailbox" in (other.error_message or "")


def test_a_blob_reference_understating_its_size_is_refused_before_it_is_read(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    big = b"x" * 3_000_000
    ref = BlobStore(tmp_path / "blobs").put(big)
    assert ref.sha256 == hashlib.sha256(big).hexdigest()
    attachment = {"name": "big.bin", "blob": {"sha256": ref.sha256, "size": 10}}
    with run_sender(sim, broker, db_url, tmp_path):
        publish_job(broker, make_job("job-blob", attachments=[attachment]))
        answer = answer_of(results, "job-blob")
    assert answer.status == "rejected" and answer.error_code == "blob_size_mismatch"
    assert nothing_sent(sim)


def test_a_sent_job_republished_with_a_forbidden_sender_keeps_its_first_answer(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    with run_sender(sim, broker, db_url, tmp_path):
        publish_job(broker, make_job("job-again"))
        assert results.wait_for("job-again").status == "sent"
        publish_job(broker, make_job("job-again", from_address="ceo@contoso.com"))
        assert wait_until(lambda: len(results.of("job-again")) >= 2, 60)
    assert [r.status for r in results.of("job-again")] == ["sent", "sent"]
    assert len(sent_list(sim)) == 1


def test_a_job_hitting_a_bug_ends_in_one_failed_result_and_a_final_log_row(
    sim: SimHandle,
    broker: Broker,
    results: Results,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import services.sender.dispatch as dispatch

    real = dispatch.build_mime

    def build_mime(job: Any, *args: Any, **kwargs: Any) -> Any:
        if job.job_id == "job-bug":  # what a subject with a vertical tab once did
            raise ValueError("Header values may not contain linefeed or carriage return")
        return real(job, *args, **kwargs)

    monkeypatch.setattr(dispatch, "build_mime", build_mime)
    with run_sender(sim, broker, db_url, tmp_path) as joblog:
        publish_job(broker, make_job("job-bug"))
        answer = results.wait_for("job-bug")
        assert wait_until(lambda: len(drain(broker, broker.names.sender.dead)) == 1)
        publish_job(broker, make_job("job-fine"))
        assert results.wait_for("job-fine").status == "sent"
        entry = joblog.get_job("job-bug")
    assert len(results.of("job-bug")) == 1
    assert answer.status == "failed" and answer.error_code == "unexpected_error"
    assert "linefeed" in (answer.error_message or "")
    assert entry is not None and entry.status == "failed"
    assert [e["headers"]["X-Mailpipe-Job-Id"] for e in sent_list(sim)] == ["job-fine"]
