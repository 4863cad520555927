"""Content-Transfer-Encoding as real mail damages it: every reader (the ticketer, the Gmail
adapter, the Graph simulator) gets the part's bytes from ``payload_bytes``, which never raises
and keeps whatever decodes."""

from __future__ import annotations

import base64
import binascii

import pytest

from libs.common.text.mimetree import parse_tree
from libs.common.text.transfer import decode_base64, payload_bytes, transfer_encoding
from services.ticketer.domain.mime import parse_mime
from tests.unit.provider_readers import gmail, graph

TEXT = "Grüße aus Köln, die Rechnung Nr. 4711 fehlt noch."
B64 = base64.b64encode(TEXT.encode()).decode()


def mail(cte: str, body: str, charset: str = "utf-8") -> bytes:
    return (
        "From: ann@x.test\r\nSubject: cte\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={charset}\r\n"
        f"Content-Transfer-Encoding: {cte}\r\n\r\n{body}\r\n"
    ).encode("latin-1")


def _everyone_reads(raw: bytes) -> str:
    """The text the ticketer, the Gmail adapter and the Graph simulator read: one text."""
    ticketer = parse_mime(raw).facts.text or ""
    assert ticketer.strip() == gmail(raw).body.strip() == graph(raw).body.strip()
    return ticketer.strip()


@pytest.mark.parametrize(
    ("cte", "body"),
    [
        ("base64", B64.rstrip("=")),  # unpadded
        ("base64", "\r\n".join(B64[i : i + 7] for i in range(0, len(B64), 7))),  # short lines
        ("base64", B64[:10] + " !*~ \t" + B64[10:30] + "\x7f" + B64[30:]),  # garbage inside
        ("BASE64", B64),
        (" Base64 ", B64),
        ('"base64"', B64),
        ("base64 (encoded by a gateway)", B64),
    ],
)
def test_damaged_base64_and_odd_labels_still_give_the_text(cte: str, body: str) -> None:
    assert _everyone_reads(mail(cte, body)) == TEXT


def test_base64_chunks_joined_after_their_padding_are_all_read() -> None:
    first = base64.b64encode("Grüße aus Köln".encode()).decode()
    second = base64.b64encode(b", bis bald!").decode()
    assert first.endswith("=") and second.endswith("=")
    assert _everyone_reads(mail("base64", first + "\r\n" + second)) == "Grüße aus Köln, bis bald!"


def test_truncated_base64_keeps_what_decodes() -> None:
    cut = B64[:41]  # a mail cut off in transit: one character past a whole group
    assert len(cut) % 4 == 1
    assert _everyone_reads(mail("base64", cut)) == TEXT[:27]
    assert decode_base64(b"") == b"" and decode_base64(b"====") == b""
    assert decode_base64(b"QQ") == b"A"


def test_quoted_printable_with_bad_escapes_keeps_them_as_written() -> None:
    body = "Gr=C3=BC=C3=9Fe =ZZ 100=% und =c3=a4 weiter=\r\n geht's"
    text = _everyone_reads(mail("Quoted-Printable ", body))
    assert text.startswith("Grüße =ZZ 100=% und ")
    assert text.endswith("weiter geht's")


def test_uuencoded_and_unknown_encodings() -> None:
    encoded = binascii.b2a_uu("Grüße".encode()).decode()
    uu = mail("x-uue", f"begin 644 note.txt\r\n{encoded}`\r\nend")
    assert _everyone_reads(uu) == "Grüße"
    assert _everyone_reads(mail("8bit ", "Grüße")) == "Grüße"
    raw_8bit = mail("8BIT", "x").replace(b"x\r\n", "Caf\u00e9 cr\u00e8me".encode("cp1252"))
    assert _everyone_reads(raw_8bit) == "Café crème"
    assert _everyone_reads(mail("x-made-up", "plain words")) == "plain words"


def test_the_label_is_one_token_and_absent_means_7bit() -> None:
    labels = {
        " Base64 ": "base64",
        '"quoted-printable"': "quoted-printable",
        "8bit (raw)": "8bit",
    }
    for given, token in labels.items():
        assert transfer_encoding(parse_tree(mail(given, "x"))) == token
    assert transfer_encoding(parse_tree(b"Subject: none\r\n\r\nx")) == "7bit"
    multipart = parse_tree(
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"
    )
    assert payload_bytes(multipart) == b""
