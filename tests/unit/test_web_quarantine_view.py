"""The console's view of a quarantined mail reads it as the providers and the ticketer do:
the oddest mail there is still shows its headers, text and attachments."""

from __future__ import annotations

from email.message import EmailMessage

from services.web.quarantine import AttachmentLine, mail_view
from tests.unit.provider_readers import nested


def test_hostile_nesting_shows_the_text_above_the_cut() -> None:
    view = mail_view(nested(5000, b"buried"))
    assert view.text.strip() == "the text before the nesting"
    assert ("Subject", "deep") in view.headers
    (cut,) = view.attachments
    assert cut.content_type == "application/octet-stream" and cut.size > 5000


def test_odd_headers_and_a_bogus_charset_read_as_everywhere_else() -> None:
    raw = (
        b"From: Ren\xe9 <rene@x.test>\r\nSubject : Caf\xe9 kaputt\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\n"
        b'Content-Transfer-Encoding: "Base64"\r\n\r\nQ2Fm6SBjcuhtZQ\r\n'
    )
    view = mail_view(raw)
    assert view.headers == (("From", "René <rene@x.test>"), ("Subject", "Café kaputt"))
    assert view.text == "Café crème" and view.html == "" and view.attachments == ()


def test_an_ordinary_mail_shows_its_parts() -> None:
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "Ann <ann@x.test>", "Rechnung"
    msg.set_content("Grüße")
    msg.add_alternative('<p onclick="x()">Grüße</p><script>bad()</script>', subtype="html")
    msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="r.pdf")
    view = mail_view(msg.as_bytes())
    assert view.text.strip() == "Grüße"
    assert view.html.strip() == "<p>Grüße</p>"
    assert view.attachments == (AttachmentLine("r.pdf", "application/pdf", 4),)
