"""The sender against the Graph simulator and a real RabbitMQ: what a job becomes in the
simulator's sent list, the send-as policy, idempotency, large attachments, invalid jobs."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from libs.common.blobs import BlobStore
from libs.common.broker import Broker
from libs.common.msgid import make_message_id
from libs.graphsim.testing import SimHandle
from tests.broker_helpers import drain, wait_until
from tests.integration.test_sender_support import (
    CUSTOMER,
    MAILBOX,
    Results,
    make_job,
    parsed,
    publish_job,
    publish_raw_job,
    run_sender,
    seed_record,
    sent_list,
    set_send_as,
    sim_stats,
)

AGENT = "alice@contoso.com"


def test_a_job_becomes_exactly_one_message(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    logo = b"\x89PNG fake image bytes"
    job = make_job(
        "job-full",
        to=[{"address": CUSTOMER, "name": "Casey Customer"}],
        cc=[{"address": "boss@example.org"}],
        subject="Your printer",
        text="The printer works again.",
        html='<p>The printer works again.</p><img src="cid:logo">',
        attachments=[
            {
                "name": "report.txt",
                "content_type": "text/plain",
                "content_base64": base64.b64encode(b"report body").decode(),
            },
            {
                "name": "logo.png",
                "content_type": "image/png",
                "content_base64": base64.b64encode(logo).decode(),
                "is_inline": True,
                "content_id": "logo",
            },
        ],
        in_reply_to="<question-1@example.org>",
        references=["<root@example.org>", "<question-1@example.org>"],
        record_id=42,
        headers={"X-Desk-Ref": "A-7"},
    )
    seed_record(db_url, 42)  # a job may name only a record of its own mailbox
    with run_sender(sim, broker, db_url, tmp_path):
        publish_job(broker, job)
        result = results.wait_for("job-full")
    assert result.status == "sent", result
    sent = sent_list(sim)
    assert len(sent) == 1
    msg = parsed(sent[0])
    assert msg["From"].addresses[0].addr_spec == MAILBOX
    assert [a.addr_spec for a in msg["To"].addresses] == [CUSTOMER]
    assert [a.addr_spec for a in msg["Cc"].addresses] == ["boss@example.org"]
    assert msg["Subject"] == "[#42] Your printer"
    assert msg["In-Reply-To"] == "<question-1@example.org>"
    assert msg["References"].split() == ["<root@example.org>", "<question-1@example.org>"]
    expected_id = make_message_id(MAILBOX, "job-full", "mailpipe.contoso.com")
    assert msg["Message-ID"] == expected_id == result.internet_message_id
    assert msg["X-Mailpipe-Job-Id"] == "job-full"
    assert msg["X-Mailpipe-Record-Id"] == "42"
    assert msg["X-Desk-Ref"] == "A-7"
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and text.get_content().strip() == "The printer works again."
    assert html is not None and "cid:logo" in html.get_content()
    files = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert files["report.txt"].strip() == "report body"
    inline = [p for p in msg.walk() if p.get("Content-ID") == "<logo>"]
    assert len(inline) == 1 and inline[0].get_content() == logo
    # The result says what was sent, for the record.
    assert result.subject == "[#42] Your printer" and result.record_id == 42
    assert [a.address for a in result.to] == [CUSTOMER]
    assert result.in_reply_to == "<question-1@example.org>"
    assert result.sent_as == MAILBOX


def test_allowed_agent_sends_as_the_agent(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    set_send_as(sim, [AGENT])
    job = make_job("job-agent", from_address=AGENT, from_name="Alice Agent")
    with run_sender(sim, broker, db_url, tmp_path, send_as=[AGENT]):
        publish_job(broker, job)
        result = results.wait_for("job-agent")
    assert result.status == "sent" and result.sent_as == AGENT
    (entry,) = sent_list(sim)
    assert parsed(entry)["From"].addresses[0].addr_spec == AGENT


def test_agent_not_in_the_list_is_rejected_and_nothing_is_sent(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    set_send_as(sim, ["mallory@contoso.com"])  # Exchange would allow it: mailpipe must not
    with run_sender(sim, broker, db_url, tmp_path, send_as=[AGENT]) as joblog:
        publish_job(broker, make_job("job-mallory", from_address="mallory@contoso.com"))
        result = results.wait_for("job-mallory")
        assert wait_until(lambda: bool(drain(broker, broker.names.sender.dead)))
        entry = joblog.get_job("job-mallory")
    assert result.status == "rejected" and result.error_code == "send_as_not_allowed"
    assert "send_as" in (result.error_message or "")
    assert entry is not None and entry.status == "rejected"
    assert sent_list(sim) == []


def test_denied_grant_fails_with_the_delegation_hint(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    set_send_as(sim, [])
    with run_sender(sim, broker, db_url, tmp_path, send_as=[AGENT]) as joblog:
        publish_job(broker, make_job("job-denied", from_address=AGENT))
        result = results.wait_for("job-denied")
        entry = joblog.get_job("job-denied")
    assert result.status == "failed" and result.error_code == "send_as_denied"
    message = result.error_message or ""
    assert "Recipients > Mailboxes" in message and "Delegation > Send as" in message
    assert AGENT in message and MAILBOX in message
    assert 'send_as_fallback = "mailbox"' in message  # the whole text, not cut short
    assert entry is not None and entry.status == "failed"
    assert sent_list(sim) == []


def test_fallback_sends_from_the_mailbox_with_reply_to_the_agent(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    set_send_as(sim, [])
    job = make_job("job-fallback", from_address=AGENT, from_name="Alice Agent")
    with run_sender(sim, broker, db_url, tmp_path, send_as=[AGENT], send_as_fallback="mailbox"):
        publish_job(broker, job)
        result = results.wait_for("job-fallback")
    assert result.status == "sent" and result.sent_as == MAILBOX
    assert "ErrorSendAsDenied" in (result.detail or "")
    (entry,) = sent_list(sim)
    msg = parsed(entry)
    assert msg["From"].addresses[0].addr_spec == MAILBOX
    assert msg["From"].addresses[0].display_name == f"Alice Agent via {MAILBOX}"
    assert [a.addr_spec for a in msg["Reply-To"].addresses] == [AGENT]


def test_the_same_job_published_three_times_is_sent_once(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    job = make_job("job-thrice")
    with run_sender(sim, broker, db_url, tmp_path):
        for _ in range(3):
            publish_job(broker, job)
        assert wait_until(lambda: len(results.of("job-thrice")) == 3)
    assert len(sent_list(sim)) == 1
    answers = results.of("job-thrice")
    assert {r.status for r in answers} == {"sent"}
    assert len({r.internet_message_id for r in answers}) == 1


def test_a_10_mb_blob_attachment_goes_through_an_upload_session(
    sim: SimHandle, broker: Broker, results: Results, db_url: str, tmp_path: Path
) -> None:
    data = hashlib.sha256(b"seed").digest() * (10 * 1024 * 1024 // 32)
    ref = BlobStore(tmp_path / "blobs").put(data)
    job = make_job(
        "job-big",
        in_reply_to="<question-9@example.org>",
        attachments=[
            {"name": "small.txt", "content_base64": base64.b64encode(b"small").decode()},
            {"name": "big.bin", "blob": ref.model_dump()},
        ],
    )
    with run_sender(sim, broker, db_url, tmp_path):
        publish_job(broker, job)
        result = results.wait_for("job-big", timeout_s=120)
    assert result.status == "sent", result
    requests = sim_stats(sim)["requests"]
    assert any("createUploadSession" in route for route in requests), requests
    (entry,) = sent_list(sim)
    msg = parsed(entry)
    # Created from MIME: our headers survive the draft path.
    assert msg["Message-ID"] == result.internet_message_id
    assert msg["In-Reply-To"] == "<question-9@example.org>"
    assert msg["X-Mailpipe-Job-Id"] == "job-big"
    files = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert files["big.bin"] == data
    assert files["small.txt"].strip() in ("small", b"small")


def _job_json(**overrides: Any) -> bytes:
    data = json.loads(make_job("x").to_json())
    data.update(overrides)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "name,overrides",
    [
        ("crlf-subject", {"subject": "Hello\r\nBcc: victim@example.org"}),
        # Python's email package breaks lines at these too: once sent into a retry loop.
        ("vt-subject", {"subject": "a\x0bb"}),
        ("ls-from-name", {"from_name": "Desk\u2028Bcc: victim@example.org"}),
        ("to-header", {"headers": {"To": "victim@example.org"}}),
        (
            "attachment-200mb",
            {
                "attachments": [
                    {"name": "huge.bin", "blob": {"sha256": "a" * 64, "size": 200 << 20}}
                ]
            },
        ),
        ("bad-address", {"to": [{"address": "not an address@@example"}]}),
    ],
)
def test_invalid_jobs_are_rejected_and_nothing_is_sent(
    name: str,
    overrides: dict[str, Any],
    sim: SimHandle,
    broker: Broker,
    results: Results,
    db_url: str,
    tmp_path: Path,
) -> None:
    job_id = f"job-{name}"
    with run_sender(sim, broker, db_url, tmp_path):
        publish_raw_job(broker, _job_json(job_id=job_id, **overrides))
        result = results.wait_for(job_id)
        assert wait_until(lambda: len(drain(broker, broker.names.sender.dead)) == 1)
        # The queue keeps flowing behind the invalid job.
        publish_job(broker, make_job("job-after"))
        assert results.wait_for("job-after").status == "sent"
    assert result.status == "rejected" and result.error_code == "contract_violation"
    assert result.error_message
    assert [e["headers"]["X-Mailpipe-Job-Id"] for e in sent_list(sim)] == ["job-after"]
