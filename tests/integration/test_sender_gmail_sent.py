"""A job sent as an agent on Gmail whose answer was lost, and a sender restarted before the
retry: the copy is in the agent's own Sent (the impersonated mailbox), the new sender asks
Gmail there, and the agent sends exactly one message."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from libs.common.broker import Broker
from libs.common.mail import (
    Mailbox,
    MailProvider,
    MailSender,
    OutcomeUnknown,
    OutgoingAttachment,
    SendResult,
    open_provider,
)
from libs.common.msgid import make_message_id
from libs.common.settings import MailboxConfig, MailpipeConfig
from libs.gmailsim.testing import GmailSimHandle
from services.sender.dispatch import FOUND_IN_SENT_ITEMS
from tests.broker_helpers import wait_until
from tests.integration.gmail_adapter_helpers import AGENT, BOX, faults, sent
from tests.integration.test_sender_support import Results, make_job, publish_job, sender_in_process

pytestmark = pytest.mark.timeout(180)


class StopsOnLostAnswer:
    """The sender's mail port, which stops the sender once a send's answer is lost: the
    retry then comes to a new sender, whose adapter never saw the send."""

    def __init__(self, mailbox: Mailbox, stop: threading.Event) -> None:
        self._mailbox, self._stop = mailbox, stop
        self.send_limits = mailbox.send_limits

    def send_mime(self, mime: bytes) -> SendResult:
        try:
            return self._mailbox.send_mime(mime)
        except OutcomeUnknown:
            self._stop.set()
            raise

    def send_mime_draft(
        self,
        mime: bytes,
        attachments: Sequence[OutgoingAttachment] = (),
        *,
        attachment_post_limit: int = 0,
    ) -> SendResult:
        raise AssertionError("the job is small: one send_mime")

    def find_sent(self, internet_message_id: str, *, sender: str | None = None) -> bool:
        return self._mailbox.find_sent(internet_message_id, sender=sender)


@contextmanager
def gmail_provider(config: MailpipeConfig) -> Iterator[MailProvider]:
    provider = open_provider(config, retry_budget_s=10)
    try:
        yield provider
    finally:
        provider.close()


def test_a_lost_answer_on_an_agent_send_is_not_sent_again_by_a_restarted_sender(
    gsim: GmailSimHandle, broker: Broker, results: Results, tmp_path: Path
) -> None:
    config = gsim.config(send_as=[AGENT])
    db_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    job = make_job("job-agent-lost", mailbox=BOX, from_address=AGENT)
    faults(gsim, lose_send_responses=1)
    stop = threading.Event()
    with gmail_provider(config) as first:

        def first_mail(box: MailboxConfig) -> MailSender:
            return StopsOnLostAnswer(first(box), stop)

        with sender_in_process(
            broker, config, db_url, tmp_path / "blobs", mail_for=first_mail, stop=stop
        ) as joblog:
            publish_job(broker, job)
            assert stop.wait(60), "the first send's answer was lost"

            def retrying() -> bool:
                entry = joblog.get_job(job.job_id)
                return entry is not None and entry.status == "retrying"

            assert wait_until(retrying), "the lost answer left the job to a retry"
    assert results.of(job.job_id) == [], "the first sender answered nothing"
    assert len(sent(gsim, AGENT)) == 1, "the lost answer's message went out"

    with (
        gmail_provider(config) as restarted,
        sender_in_process(broker, config, db_url, tmp_path / "blobs", mail_for=restarted) as joblog,
    ):
        result = results.wait_for(job.job_id)
        entry = joblog.get_job(job.job_id)
    expected = make_message_id(BOX, job.job_id, config.mailbox(BOX).id_domain)
    (out,) = sent(gsim, AGENT)
    assert out["internet_message_id"] == expected and out["from_rewritten"] is False
    assert sent(gsim, BOX) == []
    assert result.status == "sent" and result.internet_message_id == expected
    assert FOUND_IN_SENT_ITEMS in (result.detail or "") and result.attempts == 2
    assert entry is not None and entry.status == "sent" and entry.attempts == 2
    assert [r.status for r in results.of(job.job_id)] == ["sent"]
