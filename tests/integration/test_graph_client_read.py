"""Seeded RFC 822 mail comes back through list, delta, get, $value and attachments."""

from __future__ import annotations

import email
from email import policy

from libs.common.mail import MailAddress
from libs.graphsim.testing import SimHandle

from .graph_client_helpers import BOX, control_json, mail_for, rfc822, seed, seed_many, stats

SUBJECT = "Grüße aus Köln \u2013 Drucker kaputt ✓ 東京"
BODY = "Hallo,\nder Drucker im 3. Stock druckt nur Ø-Zeichen.\n"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
LOGO = bytes(range(255, -1, -1)) * 3


def seeded(sim: SimHandle) -> tuple[str, str]:
    raw, message_id = rfc822(
        SUBJECT,
        sender="Jörg Müller <joerg@fabrikam.com>",
        cc="Team Lead <lead@fabrikam.com>",
        body=BODY,
        headers={
            "In-Reply-To": "<earlier@contoso.com>",
            "References": "<root@contoso.com> <earlier@contoso.com>",
            "X-Ticket-Ref": "T-1234",
            "Reply-To": "replies@fabrikam.com",
        },
        attachments=[("bericht.pdf", "application/pdf", PDF), ("logo.bin", "image/png", LOGO)],
    )
    return seed(sim, raw), message_id


def test_list_get_mime_and_attachments_round_trip(sim: SimHandle) -> None:
    mail_id, message_id = seeded(sim)
    with mail_for(sim) as mail:
        (listed,) = mail.list_messages("inbox", view="full")
        assert listed.id == mail_id
        assert listed.subject == SUBJECT
        assert listed.internet_message_id == message_id
        assert listed.from_ == MailAddress("joerg@fabrikam.com", "Jörg Müller")
        assert [r.address for r in listed.to] == [BOX]
        assert [r.address for r in listed.cc] == ["lead@fabrikam.com"]
        assert [r.address for r in listed.reply_to] == ["replies@fabrikam.com"]
        assert listed.has_attachments is True

        full = mail.get_message(mail_id)
        assert full.subject == SUBJECT and full.received_at
        assert full.body_type == "text"
        assert full.body.replace("\r\n", "\n").strip() == BODY.strip()
        headers = {name.lower(): value for name, value in full.headers}
        assert headers["x-ticket-ref"] == "T-1234"
        assert headers["in-reply-to"] == "<earlier@contoso.com>"
        assert "<root@contoso.com>" in headers["references"]

        parsed = email.message_from_bytes(mail.get_mime(mail_id), policy=policy.default)
        assert parsed["Subject"] == SUBJECT
        assert parsed["Message-ID"] == message_id
        assert parsed["X-Ticket-Ref"] == "T-1234"

        attachments = {a.name: a for a in mail.get_attachments(mail_id)}
        assert attachments["bericht.pdf"].content == PDF
        assert attachments["bericht.pdf"].content_type == "application/pdf"
        assert attachments["logo.bin"].content == LOGO


def test_delta_returns_the_seeded_message(sim: SimHandle) -> None:
    mail_id, message_id = seeded(sim)
    with mail_for(sim) as mail:
        result = mail.delta("inbox")
    (msg,) = result.messages
    assert msg.id == mail_id and msg.subject == SUBJECT
    assert msg.internet_message_id == message_id
    assert msg.from_ is not None and msg.from_.address == "joerg@fabrikam.com"
    assert result.removed == [] and result.cursor.startswith(sim.base_url)


def test_paging_across_several_pages(sim: SimHandle) -> None:
    ids = seed_many(sim, 23)
    with mail_for(sim) as mail:
        listed = mail.list_messages("inbox", view="id", top=5)
    assert sorted(m.id for m in listed) == sorted(ids)
    assert len({m.id for m in listed}) == 23
    pages = stats(sim)["requests"]["GET users/{u}/mailFolders/{f}/messages"]
    assert pages == {"200": 5}


def test_delta_after_new_mail_and_after_deletes(sim: SimHandle) -> None:
    first = seed_many(sim, 9)
    with mail_for(sim) as mail:
        initial = mail.delta("inbox", page_size=4)
        assert sorted(m.id for m in initial.messages) == sorted(first)
        assert stats(sim)["requests"]["GET users/{u}/mailFolders/{f}/messages/delta"]["200"] == 3

        quiet = mail.delta("inbox", initial.cursor)
        assert quiet.messages == [] and quiet.removed == []

        new = seed_many(sim, 2, prefix="New")
        after_new = mail.delta("inbox", quiet.cursor)
        assert sorted(m.id for m in after_new.messages) == sorted(new)
        assert {m.subject for m in after_new.messages} == {"New 0", "New 1"}

        for gone in first[:3]:
            assert mail.delete(gone) is True
        after_delete = mail.delta("inbox", after_new.cursor)
        assert sorted(after_delete.removed) == sorted(first[:3])
        assert after_delete.messages == [] and not after_delete.resynced


def test_expired_delta_link_gives_a_full_resync(sim: SimHandle) -> None:
    ids = seed_many(sim, 6)
    with mail_for(sim) as mail:
        stale = mail.delta("inbox").cursor
        control_json(sim, "POST", f"/_sim/mailboxes/{BOX}/expire-delta")
        result = mail.delta("inbox", stale)
        assert result.resynced
        assert sorted(m.id for m in result.messages) == sorted(ids)
        assert result.cursor != stale
        assert mail.delta("inbox", result.cursor).messages == []
    delta_statuses = stats(sim)["requests"]["GET users/{u}/mailFolders/{f}/messages/delta"]
    assert delta_statuses.get("410") == 1
