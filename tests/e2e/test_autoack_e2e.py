"""Auto-acknowledgement end to end (fetcher, ticketer and sender as processes): a new request
gets an acknowledgement in the simulator's sent list — to the requester, the record token in
the subject, marked automatic, In-Reply-To the request — and the requester's answer to it
(In-Reply-To the acknowledgement, the token dropped from the subject) threads onto the same
record. On SQLite and on PostgreSQL, through Microsoft Graph and through Gmail (the
``provider`` fixture; the Gmail world shapes its sent list like Graph's)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

from kombu import Exchange, Queue

from libs.common.contracts import OutboundEmail
from libs.common.msgid import is_our_message_id
from libs.common.record_token import find_record_token, record_token
from services.ticketer.domain.acknowledgement import ack_job_id
from tests.broker_helpers import drain
from tests.e2e.corpus import Corpus
from tests.e2e.harness import Stack, pipeline
from tests.e2e.scenario import check_outcomes, problems_text, seed

SUPPORT = "support@contoso.com"


@contextmanager
def job_tap(stack: Stack) -> Iterator[list[OutboundEmail]]:
    """Every OutboundEmail published to the outbound exchange, as the sender would get it."""
    broker = stack.broker()
    broker.declare()
    name = f"{stack.namespace}.test.outbound-tap"
    conn = broker.connection()
    conn.connect()
    queue = Queue(
        name,
        Exchange(broker.names.outbound, type="topic", passive=True),
        routing_key="outbound.#",
        durable=False,
    )
    queue.bind(conn.channel()).declare()
    jobs: list[OutboundEmail] = []
    try:
        yield jobs
    finally:
        jobs += [OutboundEmail.from_json(got.body) for got in drain(broker, name)]
        queue.bind(conn.channel()).delete()
        conn.release()
        broker.close()


def test_acknowledgement_reaches_the_requester_and_the_answer_threads_back(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str
) -> None:
    with pipeline(
        tmp_path,
        amqp_url,
        mailboxes=[SUPPORT],
        database_url=database_url,
        provider=provider,
        poll_interval_s=0.5,
        auto_acknowledge=True,
    ) as stack:
        corpus = Corpus(seed=55, mailboxes=stack.mailboxes)
        request = corpus.request(SUPPORT, "html")
        with job_tap(stack) as jobs:
            for service in ("fetcher", "ticketer", "sender"):
                stack.start(service)
            seeded = seed(stack, [request])
            stack.wait_until(
                lambda: (
                    len(stack.sent()) == 1
                    and any(m["direction"] == "out" for m in stack.rows("record_messages"))
                ),
                what="the acknowledgement sent and stored on its record",
            )
        [record] = stack.records()
        [sent] = stack.sent()
        print(f"acknowledgement as sent: {sent['headers']}")
        assert [str(r).lower() for r in sent["to"]] == [request.sender]
        assert record_token(record.id) in sent["subject"]
        assert sent["subject"].startswith("Re: ")
        assert sent["headers"]["In-Reply-To"] == request.message_id
        assert request.message_id in sent["headers"]["References"]
        assert is_our_message_id(sent["internet_message_id"], "mailpipe.contoso.com")
        # Exchange (and the Graph simulator) strip Auto-Submitted from submitted MIME: the job asked
        # for it, and our Message-ID domain and X-Mailpipe headers mark the mail as ours.
        [job] = jobs
        [message_id] = [m["message_id"] for m in stack.rows("record_messages") if m["message_id"]]
        ack_id = ack_job_id(SUPPORT, record.id, message_id)
        assert (job.job_id, job.auto_submitted) == (ack_id, "auto-replied")
        mime = message_from_bytes(base64.b64decode(sent["mime_base64"]), policy=policy.default)
        assert mime["X-Mailpipe-Job-Id"] == job.job_id
        text = mime.get_body(("plain",))
        assert text is not None and record_token(record.id) in text.get_content()

        answer = corpus.reply_by_in_reply_to(request, sent["internet_message_id"])
        assert find_record_token(answer.subject) is None
        seeded += seed(stack, [answer])
        stack.wait_until(
            lambda: stack.count("processed_log") == 2 and stack.folders()["inbox"] == 0,
            what="the answer handled",
        )
        outcomes = check_outcomes(stack, seeded)
        assert not outcomes.problems, problems_text(outcomes.problems)
        detail = stack.record(record.id)
        kinds = {m.kind: m for m in detail.messages}
        assert sorted((m.direction, m.kind) for m in detail.messages) == [
            ("in", "reply"),
            ("in", "request"),
            ("out", "outbound"),
        ]
        assert kinds["outbound"].internet_message_id == sent["internet_message_id"]
        assert kinds["reply"].in_reply_to == sent["internet_message_id"]
        assert len(stack.records()) == 1
        assert len(stack.sent()) == 1, "an answer is not acknowledged again"
