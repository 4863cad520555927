"""RFC 2047 encoded words cannot inject headers, through the real sender, RabbitMQ and the
Graph simulator: a job carrying one in a header field is answered ``rejected`` at once and
nothing is sent; a name too long to fold is ``rejected`` (``header_not_writable``), never a
retry loop; text that merely looks like an encoded word goes out exactly as given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from libs.common.broker import Broker
from libs.common.contracts import OutboundResult
from libs.graphsim.testing import SimHandle
from tests.integration.test_sender_support import (
    Results,
    make_job,
    parsed,
    publish_job,
    publish_raw_job,
    run_sender,
    sent_list,
)

INJECT = "=?utf-8?q?hello=0D=0ABcc:_attacker=40evil.example?="


def _job_json(**overrides: Any) -> bytes:
    data = json.loads(make_job("x").to_json())
    data.update(overrides)
    return json.dumps(data).encode()


def answer_of(results: Results, job_id: str) -> OutboundResult:
    first = results.wait_for(job_id)
    assert len(results.of(job_id)) == 1, results.of(job_id)
    return first


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": INJECT},
        {"subject": "=?UTF-8?B?aGkNCkZyb206IGNlb0Bjb250b3NvLmNvbQ==?="},
        {"headers": {"X-Ref": INJECT}},
        {"attachments": [{"name": INJECT, "content_base64": "aGk="}]},
        {"from_name": "=?utf-8*en?q?Desk=0D=0A=0D=0Abody?="},
        {"to": [{"address": "=?utf-8?q?a=0D=0ABcc=3A_x=40evil.example?=@example.org"}]},
    ],
    ids=["subject", "subject-b", "x-header", "filename", "from-name-lang", "address"],
)
def test_an_encoded_word_in_a_header_field_is_rejected_and_nothing_is_sent(
    overrides: dict[str, Any],
    sim: SimHandle,
    broker: Broker,
    results: Results,
    db_url: str,
    tmp_path: Path,
) -> None:
    with run_sender(sim, broker, db_url, tmp_path):
        publish_raw_job(broker, _job_json(job_id="job-ew", **overrides))
        answer = answer_of(results, "job-ew")
    assert answer.status == "rejected" and answer.error_code == "contract_violation"
    assert "encoded word" in (answer.error_message or "")
    assert sent_list(sim) == []


def test_a_name_too_long_to_fold_is_rejected_at_once(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    with run_sender(sim, broker, db_url, tmp_path):
        publish_job(broker, make_job("job-long", from_name="N" * 998))
        answer = answer_of(results, "job-long")
    assert answer.status == "rejected" and answer.error_code == "header_not_writable"
    assert "998" in (answer.error_message or "")
    assert sent_list(sim) == []


def test_text_that_only_looks_like_an_encoded_word_is_sent_as_given(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    subject = "is 1+1=? yes ?= no =?utf-8 q"
    with run_sender(sim, broker, db_url, tmp_path):
        publish_job(broker, make_job("job-near", subject=subject, headers={"X-Ref": "a=?b"}))
        assert answer_of(results, "job-near").status == "sent"
    (entry,) = sent_list(sim)
    msg = parsed(entry)
    assert " ".join(str(msg["Subject"]).split()) == subject
    assert str(msg["X-Ref"]) == "a=?b"
    assert msg["Bcc"] is None and len(msg.get_all("From") or []) == 1
