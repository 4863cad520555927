"""Replies as real mail clients send them, through the running ticketer (RabbitMQ, both
databases): each joins its record, with only its new text."""

from __future__ import annotations

from typing import Any

from libs.common.contracts import Body, MailHeaders
from tests.integration.test_ticketer_rig import mail, make_rig

__all__ = ["make_rig"]  # the fixture, imported for pytest

OWA_REPLY = (
    '<div dir="ltr">Der Drucker druckt wieder nicht.</div><div id="appendonsend"></div>'
    '<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" '
    'dir="ltr"><b>Von:</b> Support<br><b>Gesendet:</b> Montag, 2. November 2026 10:00<br>'
    "<b>An:</b> User<br><b>Betreff:</b> Printer</div><div>Neu gestartet?</div>"
)
OUTLOOK_FR = (
    "Toujours en panne.\r\n\r\nDe : Support <support@contoso.com>\r\nEnvoyé : lundi 2 "
    "novembre 2026 10:00\r\nÀ : User <user3@customer.example>\r\nObjet : Printer\r\n\r\n"
    "Avez-vous redémarré ?\r\n"
)


def _record_of(rig: Any, message_id: str) -> int:
    [done] = [p for p in rig.processed() if p.message_id == message_id]
    assert done.record_id is not None
    return int(done.record_id)


def test_mangled_tokens_bare_references_and_html_replies_join_their_records(
    make_rig: Any,
) -> None:
    rig = make_rig()
    rig.send(mail(1), mail(2), mail(3))
    rig.processed(3)
    r1, r2, r3 = (_record_of(rig, f"AAMk-{n}=") for n in (1, 2, 3))

    rig.send(
        # A gateway left the token in an encoded word; the reply is HTML only (OWA).
        mail(
            11,
            subject=f"RE:=?utf-8?q?=5B#{r1}=5D?= Printer 1",
            conversation_id="x11",
            body=Body(html=OWA_REPLY),
        ),
        # No token; References without angle brackets, separated by a comma.
        mail(
            12,
            subject="AW: Printer 2",
            conversation_id="x12",
            headers=MailHeaders(references=["m2@customer.example,other@elsewhere.example"]),
        ),
        # A tag in front and the token at the end; a French Outlook header block.
        mail(
            13,
            subject=f"[EXTERNAL] RE: Printer 3 [#{r3}]",
            conversation_id="x13",
            body=Body(text=OUTLOOK_FR),
        ),
    )
    rig.processed(6)
    assert [_record_of(rig, f"AAMk-{n}=") for n in (11, 12, 13)] == [r1, r2, r3]
    assert len(rig.store.list_records()) == 3
    texts = []
    for record_id in (r1, r3):
        detail = rig.store.get_record(record_id)
        assert detail is not None
        texts.append((detail.messages[-1].kind, detail.messages[-1].body_text))
    assert texts == [
        ("reply", "Der Drucker druckt wieder nicht."),
        ("reply", "Toujours en panne."),
    ]
