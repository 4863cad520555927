"""The e2e corpus says what it means: each generated mail is classified by the ticketer's own
rules as its expectation assumes, and each rewritten bounce returns the Message-ID it names.
(No services here: a wrong corpus would otherwise show up as a pipeline failure.)"""

from __future__ import annotations

from collections import Counter
from email import message_from_bytes, policy

from services.ticketer.domain.classify import classify
from services.ticketer.domain.mime import parse_mime
from tests.e2e.corpus import BOUNCE_SHAPES, Corpus, Mail
from tests.e2e.scenario import REQUEST_VARIANTS, first_wave, second_wave

BOXES = ("support@contoso.com", "helpdesk@contoso.com")
CLASS_OF = {"request": "request", "reply": "request", "auto_reply": "auto_reply"}
CLASS_OF_REASON = {"loop": "loop", "auto_reply": "auto_reply", "bounce_unmatched": "bounce"}


def expected_class(mail: Mail) -> str:
    if mail.expect.outcome == "ignored":
        return CLASS_OF_REASON[str(mail.expect.reason)]
    return CLASS_OF.get(str(mail.expect.kind), "bounce")


def test_every_mail_is_classified_as_its_expectation_assumes() -> None:
    corpus = Corpus(seed=11, mailboxes=BOXES)
    wave1 = first_wave(corpus, 60)
    requests = [m for m in wave1 if m.expect.outcome == "created"]
    record_of = {m.key: n for n, m in enumerate(requests, start=1)}
    ack_of = {m.key: f"<ack{n}@mailpipe.contoso.com>" for n, m in enumerate(requests)}
    mails = wave1 + second_wave(corpus, requests, record_of, ack_of)
    seen: Counter[str] = Counter()
    for mail in mails:
        verdict = classify(
            parse_mime(mail.raw).facts,
            mailbox=mail.mailbox,
            own_message_id_domain="mailpipe.contoso.com",
            ignore_senders=(),
        )
        assert verdict.kind == expected_class(mail), (mail.key, verdict)
        if verdict.kind == "bounce":
            assert verdict.original_message_id is not None
            want = mail.answers or ""
            assert verdict.original_message_id.strip("<>") == want.strip("<>"), mail.key
        seen[expected_class(mail)] += 1
    assert set(seen) == {"request", "auto_reply", "bounce", "loop"}
    assert len({m.message_id for m in mails}) == len(mails), "Message-IDs are unique"
    assert {m.key.split("-")[1] for m in requests} == set(REQUEST_VARIANTS)


def test_request_variants_carry_what_they_say() -> None:
    corpus = Corpus(seed=3, mailboxes=BOXES)
    inline = message_from_bytes(corpus.request(BOXES[0], "inline").raw, policy=policy.default)
    image = next(p for p in inline.walk() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<logo@customer>"
    assert image.get_content_disposition() == "inline"
    attached = message_from_bytes(corpus.request(BOXES[0], "attachment").raw, policy=policy.default)
    assert [p.get_filename() for p in attached.iter_attachments()] == ["req-attachment-0002.log"]
    foreign = corpus.request(BOXES[1], "non_ascii")
    assert not foreign.subject.isascii()
    assert b"=?utf-8?" in foreign.raw.split(b"\n\n")[0]


def test_every_bounce_shape_can_return_our_message_id() -> None:
    corpus = Corpus(seed=5, mailboxes=BOXES)
    request = corpus.request(BOXES[0])
    for n in range(len(BOUNCE_SHAPES)):
        ours = f"<shape{n}@mailpipe.contoso.com>"
        bounce = corpus.bounce(request, ours)
        verdict = classify(
            parse_mime(bounce.raw).facts,
            mailbox=BOXES[0],
            own_message_id_domain="mailpipe.contoso.com",
            ignore_senders=(),
        )
        assert (verdict.kind, verdict.original_message_id) == ("bounce", ours), bounce.subject
        assert verdict.failures, bounce.subject
        assert message_from_bytes(bounce.raw)["Message-ID"] == bounce.message_id
