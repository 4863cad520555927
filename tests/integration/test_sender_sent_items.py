"""A send whose answer Graph lost, against the simulator: ``find_sent`` sees the copy in
Sent Items, the ``lose_send_responses`` fault loses answers after acceptance, and a job hit
by it ends as exactly one message in the sent list and one ``sent`` result."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path

import pytest

from libs.common.broker import Broker
from libs.common.graph import GraphOutcomeUnknown, OutgoingAttachment
from libs.common.msgid import make_message_id
from libs.graphsim.testing import SimHandle
from services.sender.dispatch import FOUND_IN_SENT_ITEMS
from tests.integration.graph_client_helpers import control_json, counts, faults, mail_for, seed
from tests.integration.test_sender_support import (
    MAILBOX,
    Results,
    make_job,
    publish_job,
    sender_in_process,
    sent_list,
)


def mime_with_id(message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = MAILBOX
    msg["To"] = "ann@fabrikam.com"
    msg["Subject"] = f"About {message_id}"
    msg["Message-ID"] = message_id
    msg.set_content("Done.")
    return msg.as_bytes()


def test_find_sent_sees_sent_items_only(sim: SimHandle) -> None:
    seed(sim, mime_with_id("<in-inbox@fabrikam.com>"))  # the same kind of id, not sent by us
    with mail_for(sim, MAILBOX) as mail:
        assert mail.find_sent("<one@mailpipe.contoso.com>") is False
        mail.send_mime(mime_with_id("<one@mailpipe.contoso.com>"))
        mail.send_mime_draft(
            mime_with_id("<two@mailpipe.contoso.com>"),
            [OutgoingAttachment("big.bin", os.urandom(200_000))],
            attachment_post_limit=100_000,
        )
        assert mail.find_sent("<one@mailpipe.contoso.com>") is True
        assert mail.find_sent("<two@mailpipe.contoso.com>") is True
        assert mail.find_sent("<in-inbox@fabrikam.com>") is False
        assert mail.find_sent("<o'ne@mailpipe.contoso.com>") is False


def test_a_lost_answer_fault_sends_and_answers_504(sim: SimHandle) -> None:
    faults(sim, lose_send_responses=2)
    with mail_for(sim, MAILBOX) as mail:
        with pytest.raises(GraphOutcomeUnknown) as info:
            mail.send_mime(mime_with_id("<a@mailpipe.contoso.com>"))
        assert info.value.status == 504
        with pytest.raises(GraphOutcomeUnknown):
            mail.send_mime_draft(mime_with_id("<b@mailpipe.contoso.com>"))
        mail.send_mime(mime_with_id("<c@mailpipe.contoso.com>"))  # the fault is used up
        assert all(mail.find_sent(f"<{x}@mailpipe.contoso.com>") for x in ("a", "b", "c")), (
            "every one went out"
        )
    assert len(sent_list(sim)) == 3
    assert counts(sim, MAILBOX)["folders"]["sentitems"] == 3
    assert control_json(sim, "GET", "/_sim/faults")["lose_send_responses"] == 0


def test_a_job_whose_answer_was_lost_is_sent_once(
    sim: SimHandle, broker: Broker, results: Results, tmp_path: Path
) -> None:
    faults(sim, lose_send_responses=1)
    config = sim.config()
    db_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    job = make_job("job-lost-answer")
    with sender_in_process(broker, config, db_url, tmp_path / "blobs") as joblog:
        publish_job(broker, job)
        result = results.wait_for(job.job_id)
        entry = joblog.get_job(job.job_id)
    expected = make_message_id(MAILBOX, job.job_id, config.mailbox(MAILBOX).id_domain)
    (out,) = sent_list(sim)
    assert out["internet_message_id"] == expected
    assert result.status == "sent" and result.internet_message_id == expected
    assert FOUND_IN_SENT_ITEMS in (result.detail or "") and result.attempts == 2
    assert entry is not None and entry.status == "sent" and entry.attempts == 2
    assert [r.status for r in results.of(job.job_id)] == ["sent"]
