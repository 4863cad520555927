"""Polling against the simulator, a real RabbitMQ and SQLite / PostgreSQL: seeded mail becomes
InboundEmail on the ticketer queue with blob-stored attachments; nothing is published twice
while in flight; a restart resumes from the saved delta link; Graph requests per mail ≪ 1."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

from libs.common.contracts import MAX_ATTACHMENTS, InboundEmail
from tests.integration.fetcher_rig import SUPPORT, Rig, mail

PDF = b"%PDF-1.4 fake pdf \x00\x01\x02" * 100
PNG = b"\x89PNG\r\n\x1a\n fake image" * 10


def test_seeded_mail_reaches_the_ticketer_queue_with_its_contents(rig: Rig) -> None:
    ids = [
        rig.seed(mail(1, subject="Drucker kaputt · Grüße 日本")),
        rig.seed(mail(2, attachments=[("report.pdf", "application/pdf", PDF)])),
        rig.seed(mail(3, html='<p>see <img src="cid:logo@x"></p>', inline=[("logo@x", PNG)])),
    ]
    fetcher = rig.fetcher()
    (poller,) = [p for p in fetcher.pollers if p.address == SUPPORT]
    result = poller.poll()
    assert result is not None and result.published == 3 and result.complete

    got = rig.inbound_messages()
    assert sorted(g.properties["correlation_id"] for g in got) == sorted(ids)
    emails = {e.message_id: e for e in (InboundEmail.from_json(g.body) for g in got)}
    first, second, third = (emails[i] for i in ids)
    assert first.subject == "Drucker kaputt · Grüße 日本"
    assert first.from_ is not None and first.from_.address == "jane@customer.example"
    assert first.mailbox == SUPPORT and first.internet_message_id
    assert first.body.text is not None or first.body.html is not None
    assert first.attachments == () and first.raw_mime is None

    (pdf,) = second.attachments
    assert pdf.name == "report.pdf" and pdf.content_type == "application/pdf"
    assert rig.blobs.get(pdf.blob) == PDF, "the bytes are in the blob store, not on the broker"
    assert all(b"PDF-1.4" not in g.body for g in got)

    (image,) = third.attachments
    assert image.is_inline and image.content_id == "logo@x"
    assert rig.blobs.get(image.blob) == PNG
    assert fetcher.inflight.count(SUPPORT) == 3


def test_nothing_is_published_again_while_in_flight(rig: Rig) -> None:
    for n in range(3):
        rig.seed(mail(n))
    fetcher = rig.fetcher()
    poller = fetcher.pollers[0]
    assert poller.address == SUPPORT
    first = poller.poll()
    assert first is not None and first.published == 3
    # the delta link expires: the next round reads the whole folder again
    rig.control_post(f"/_sim/mailboxes/{SUPPORT}/expire-delta")
    rig.seed(mail(9))
    again = poller.poll()
    assert again is not None and again.resynced
    assert again.skipped_in_flight == 3 and again.published == 1
    assert len(rig.inbound()) == 4, "three first, then only the new one"


def test_a_restart_resumes_from_the_saved_cursor(rig: Rig) -> None:
    for n in range(2):
        rig.seed(mail(n))
    before = rig.fetcher().pollers[0].poll()
    assert before is not None and before.published == 2
    assert len(rig.inbound()) == 2

    restarted = rig.fetcher()  # a new process: empty in-flight set, same database
    poller = restarted.pollers[0]
    idle = poller.poll()
    assert idle is not None and idle.published == 0 and idle.skipped_in_flight == 0
    assert rig.inbound() == [], "old mail is not read again"
    new_id = rig.seed(mail(5, subject="after the restart"))
    found = poller.poll()
    assert found is not None and found.published == 1
    (email,) = rig.inbound()
    assert email.message_id == new_id and email.subject == "after the restart"


def test_raw_mime_is_kept_when_configured_and_for_delivery_reports(rig: Rig) -> None:
    plain = mail(1)
    report = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\n"
        b"To: support@contoso.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce1@mx.customer.example>\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nIt bounced.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.customer.example\r\n\r\n"
        b"Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\n\r\n--b--\r\n"
    )
    plain_id, report_id = rig.seed(plain), rig.seed(report)
    rig.fetcher().pollers[0].poll()
    emails = {e.message_id: e for e in rig.inbound()}
    assert emails[plain_id].raw_mime is None
    raw = emails[report_id].raw_mime
    assert raw is not None and rig.blobs.get(raw) == report

    rig.seed(mail(2))
    kept = rig.fetcher(keep_raw_mime=True)
    kept.pollers[0].poll()
    (fresh,) = [e for e in rig.inbound() if e.message_id not in emails]
    assert fresh.raw_mime is not None and b"Request 2" in rig.blobs.get(fresh.raw_mime)


def test_graph_requests_per_mail_stay_far_below_one(rig: Rig) -> None:
    for n in range(40):
        rig.seed(mail(n))
    result = rig.fetcher().pollers[0].poll()
    assert result is not None and result.published == 40
    requests = rig.stats()["requests"]
    graph_requests = sum(sum(by_status.values()) for by_status in requests.values())
    assert graph_requests <= 2, requests  # one delta page (and nothing per mail)


def test_attachments_past_the_contracts_limit_stay_in_the_kept_raw_mime(rig: Rig) -> None:
    """InboundEmail carries MAX_ATTACHMENTS at most: the rest are not dropped in silence, the
    raw MIME (which holds every one) is kept for that mail."""
    files = [
        (f"page-{n:03}.txt", "text/plain", f"page {n}".encode()) for n in range(MAX_ATTACHMENTS + 3)
    ]
    many = rig.seed(mail(1, attachments=files))
    few = rig.seed(mail(2, attachments=files[:2]))
    result = rig.fetcher().pollers[0].poll()
    assert result is not None and result.published == 2

    emails = {
        e.message_id: e
        for e in map(InboundEmail.from_json, (g.body for g in rig.inbound_messages()))
    }
    kept = emails[many].attachments
    assert [a.name for a in kept] == [name for name, _, _ in files[:MAX_ATTACHMENTS]]
    raw = emails[many].raw_mime
    assert raw is not None
    parsed = BytesParser(policy=policy.default).parsebytes(rig.blobs.get(raw))
    names = [part.get_filename() for part in parsed.iter_attachments()]
    assert names == [name for name, _, _ in files], "every attachment is in the raw MIME"
    assert len(emails[few].attachments) == 2 and emails[few].raw_mime is None
