# ruff: noqa: RUF001 - mail in many scripts is made of such letters
"""Mail Exchange takes but a strict parser refuses: the simulator stores and serves it all.

Each class of odd mail is seeded and read back through the routes the fetcher uses
(:mod:`graphsim_reads`): the served text, addresses and preview are asserted, and
``$value`` is always the posted bytes.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import pytest

from libs.common.graph import GraphMail
from libs.common.graph.models import Attachment
from libs.common.mail import MailAddress
from libs.graphsim.mimeparts import MAX_DEPTH
from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import graph, seed
from tests.integration.graphsim_reads import BOX, Served, read_like_the_fetcher

DATA = Path(__file__).parent.parent / "data" / "graphsim"
GRUSSE = "Grüße aus München, schöne Grüße"


def mail(body: bytes, *, headers: bytes = b"", subject: bytes = b"odd") -> bytes:
    return (
        b"From: Ann <ann@fabrikam.com>\r\nTo: support@contoso.com\r\nSubject: " + subject + b"\r\n"
        b"Message-ID: <odd@fabrikam.com>\r\n" + headers + b"\r\n" + body
    )


def served(sim: SimHandle, raw: bytes) -> Served:
    mid = seed(sim, raw)
    with graph(sim) as g:
        out = read_like_the_fetcher(g, mid)
    assert out.mime == raw
    return out


def text_body(out: Served) -> str:
    return str(out.message["body"]["content"]).strip()


@pytest.mark.parametrize(
    "label",
    [None, "x-unknown", "X-UNKNOWN", "unknown-8bit", "no-such-charset", "us-ascii", "utf-8"],
)
@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_unlabelled_or_mislabelled_8bit_text_is_decoded_by_detection(
    sim: SimHandle, label: str | None, codec: str
) -> None:
    ctype = b"Content-Type: text/plain" + (f"; charset={label}".encode() if label else b"")
    raw = mail(GRUSSE.encode(codec), headers=ctype + b"\r\nContent-Transfer-Encoding: 8bit\r\n")
    out = served(sim, raw)
    assert text_body(out) == GRUSSE
    assert out.full["bodyPreview"] == GRUSSE
    assert out.delta["body"] == out.message["body"]


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        ("shift_jis", "shift_jis", "お世話になっております。プリンターが故障しました。"),
        ("iso-2022-jp", "iso2022_jp", "お世話になっております。プリンターが故障しました。"),
        ("ks_c_5601-1987", "cp949", "안녕하세요, 프린터가 고장났습니다."),
        ("gb2312", "gb2312", "您好，打印机坏了，请帮忙。"),
        ("big5", "big5", "您好，印表機壞了，請幫忙。"),
        ("koi8-r", "koi8_r", "Здравствуйте, принтер сломался."),
        (None, "shift_jis", "お世話になっております。プリンターが故障しました。"),
        (None, "iso2022_jp", "お世話になっております。プリンターが故障しました。"),
        (None, "cp949", "안녕하세요, 프린터가 고장났습니다. 확인 부탁드립니다."),
    ],
)
def test_east_asian_and_cyrillic_text_labelled_or_not(
    sim: SimHandle, label: str | None, codec: str, text: str
) -> None:
    ctype = b"Content-Type: text/plain" + (f"; charset={label}".encode() if label else b"")
    out = served(sim, mail(text.encode(codec), headers=ctype + b"\r\n"))
    assert text_body(out) == text


@pytest.mark.parametrize(
    ("cte", "encoded", "expected"),
    [
        ("8bit", "Größe €".encode("cp1252"), "Größe €"),
        ("binary", "Größe €".encode(), "Größe €"),
        (
            "x-uuencode",
            b"begin 644 a.txt\r\n" + binascii.b2a_uu("Größe €".encode()) + b"`\r\nend",
            "Größe €",
        ),
        ("quoted-printable", b"Gr=C3=B6=C3=9Fe =E2=82=AC", "Größe €"),
        ("base64", base64.b64encode("Größe €".encode()), "Größe €"),
        ("x-garbage", "Größe €".encode(), "Größe €"),
        ("base64", base64.b64encode("Größe €".encode()) + b"\r\n!!!\r\n", "Größe €"),
    ],
)
def test_odd_transfer_encodings_are_served_as_text(
    sim: SimHandle, cte: str, encoded: bytes, expected: str
) -> None:
    headers = f"Content-Type: text/plain\r\nContent-Transfer-Encoding: {cte}\r\n".encode()
    out = served(sim, mail(encoded, headers=headers))
    assert text_body(out) == expected


@pytest.mark.parametrize("codec", ["utf-8", "latin-1"])
def test_raw_8bit_headers_are_decoded(sim: SimHandle, codec: str) -> None:
    raw = (
        "From: Jürgen Müller <juergen@example.de>\r\n"
        "To: Støtte <support@contoso.com>, Zoë <zoe@example.de>\r\n"
        "Subject: Drucker kaputt – Größe\r\n"
        "Message-ID: <raw-8bit@example.de>\r\n\r\nHallo\r\n"
    ).encode(codec, "replace")
    out = served(sim, raw)
    expected_subject = "Drucker kaputt – Größe" if codec == "utf-8" else "Drucker kaputt ? Größe"
    for item in (out.message, out.delta):
        assert item["subject"] == expected_subject
        assert item["from"]["emailAddress"] == {
            "name": "Jürgen Müller",
            "address": "juergen@example.de",
        }
        assert [r["emailAddress"]["name"] for r in item["toRecipients"]] == ["Støtte", "Zoë"]


def test_unknown_charsets_in_encoded_words_and_filenames(sim: SimHandle) -> None:
    raw = (
        b"From: =?x-unknown?q?J=FCrgen?= <j@example.de>\r\nTo: support@contoso.com\r\n"
        b"Subject: =?bogus?B?" + base64.b64encode("Grüße".encode()) + b"?= =?utf-8?B?broken!?=\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
        b"hi\r\n--b\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="Gr\xfc\xdfe.pdf"\r\n\r\n%PDF\r\n--b--\r\n'
    )
    out = served(sim, raw)
    assert out.message["subject"].startswith("Grüße")
    assert out.message["from"]["emailAddress"]["name"] == "Jürgen"
    assert [a["name"] for a in out.attachments] == ["Grüße.pdf"]


def _nested(depth: int, kind: str) -> bytes:
    if kind == "multipart":
        opens = b"".join(
            b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
            for i in range(depth)
        )
        head = b"Content-Type: multipart/mixed; boundary=b0\r\n"
        return mail(
            opens + b"--b%d\r\nContent-Type: text/plain\r\n\r\ndeep leaf\r\n" % depth, headers=head
        )
    inner = b"Content-Type: message/rfc822\r\n\r\n" * depth + b"Subject: inner\r\n\r\ndeep leaf\r\n"
    return mail(inner, headers=b"Content-Type: message/rfc822\r\n")


@pytest.mark.parametrize("kind", ["multipart", "rfc822"])
def test_deep_nesting_is_served_with_the_depth_cut(sim: SimHandle, kind: str) -> None:
    out = served(sim, _nested(1200, kind))
    assert out.message["subject"] == "odd"
    assert len(out.attachments) == 1
    kept = out.attachment_bytes[out.attachments[0]["id"]]
    assert b"deep leaf" in kept  # the cut keeps the content, as one attachment
    if kind == "multipart":
        assert out.attachments[0]["contentType"] == "application/octet-stream"
        assert kept.count(b"Content-Type: multipart/mixed") == 1200 - MAX_DEPTH + 1


def test_shallow_nesting_is_not_cut(sim: SimHandle) -> None:
    out = served(sim, _nested(MAX_DEPTH - 2, "multipart"))
    assert text_body(out) == "deep leaf"
    assert out.attachments == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b'From: <<<>>> @@@ ,,, "', {"name": '<<<>>> @@@ ,,, "', "address": ""}),
        (
            b"From: broken <<ann@fabrikam.com",
            {"name": "ann@fabrikam.com", "address": "ann@fabrikam.com"},
        ),
        (b"From: MAILER-DAEMON", {"name": "MAILER-DAEMON", "address": "MAILER-DAEMON"}),
        (b"From: " + b"(" * 3000 + b"x", {"name": "(" * 3000 + "x", "address": ""}),
    ],
)
def test_unparseable_addresses_are_served_as_graph_serves_them(
    sim: SimHandle, header: bytes, expected: dict[str, str]
) -> None:
    raw = header + b"\r\nTo: undisclosed-recipients:;\r\nSubject: who\r\n\r\nbody\r\n"
    out = served(sim, raw)
    assert out.message["from"]["emailAddress"] == expected
    assert out.message["toRecipients"] == []


def test_a_missing_from_is_the_sender_or_none(sim: SimHandle) -> None:
    nobody = served(sim, b"To: support@contoso.com\r\nSubject: anonymous\r\n\r\nbody\r\n")
    assert nobody.message["from"] is None
    assert nobody.message["sender"] is None
    agent = served(sim, b"Sender: Bot <bot@fabrikam.com>\r\nSubject: by agent\r\n\r\nbody\r\n")
    assert agent.message["from"]["emailAddress"]["address"] == "bot@fabrikam.com"
    assert agent.message["sender"] == agent.message["from"]


@pytest.mark.parametrize(
    "raw",
    [
        b"no headers at all, just text\n",
        b" ",
        bytes(range(256)) * 4,
        b"Subject: \xff\xfe\x00\r\n\r\n\xff\xfe\x00",
        b"Content-Type: text/html; charset=utf-7\r\n\r\n+2AA-<p>+ZeVnLIqe-</p>",
    ],
)
def test_anything_posted_is_stored_and_served(sim: SimHandle, raw: bytes) -> None:
    out = served(sim, raw)
    assert out.message["internetMessageId"].startswith("<")


def _client(sim: SimHandle) -> GraphMail:
    config = sim.config()
    return GraphMail(config.graph, config.mailbox(BOX))


def test_the_sample_mail_through_the_real_graph_client(sim: SimHandle) -> None:
    """The realistic samples of the fuzz test, as the fetcher's client reads them."""
    seeded = {seed(sim, path.read_bytes()): path.name for path in sorted(DATA.glob("*.eml"))}
    with _client(sim) as client:
        by_name = {seeded[m.id]: m for m in client.delta().messages}
        attachments = client.get_attachments_many(seeded)
        mimes = {name: client.get_mime(mid) for mid, name in seeded.items()}
    assert set(by_name) == set(seeded.values())
    files: dict[str, list[Attachment]] = {}
    for mid, name in seeded.items():
        assert mimes[name] == (DATA / name).read_bytes()
        found = attachments[mid]
        assert isinstance(found, list), found
        files[name] = found

    multi = by_name["multi-charset.eml"]
    assert multi.subject == "打印机坏了 / Drücker kaputt"
    assert multi.from_ == MailAddress(name="Jürgen Kim", address="kim@example.kr")
    names = [r.name for r in multi.to]
    assert names == ["Support München", "지원팀"]
    assert multi.body.startswith("Grüße aus München")
    assert [a.name for a in files["multi-charset.eml"]] == ["報告.txt", "korean.txt", "résumé.txt"]

    alt = by_name["alternative-attachments.eml"]
    assert alt.from_ == MailAddress(name="Doe, Jane", address="jane.doe@fabrikam.com")
    assert [r.address for r in alt.cc] == ["bob@fabrikam.com"]
    assert "1.250,00 &euro;" in alt.body and alt.body_type == "html"
    assert [a.name for a in files["alternative-attachments.eml"]] == [
        "invoice-2026-114.pdf",
        "Verträge 2026.csv",
    ]

    report = by_name["delivery-report.eml"]
    assert report.from_ is not None and report.from_.address == "MAILER-DAEMON@mx.fabrikam.com"
    kinds = [a.content_type for a in files["delivery-report.eml"]]
    assert kinds == ["message/delivery-status", "message/rfc822"]

    inline = by_name["inline-image.eml"]
    assert inline.subject == "Capture d'écran"
    assert "Voilà l'écran" in inline.body  # the <meta> charset, no MIME label
    (image,) = files["inline-image.eml"]
    assert (image.is_inline, image.content_id) == (True, "screen@example.fr")

    odd = by_name["odd-encodings.eml"]
    assert odd.body.strip() == "Größe: 3 × 4 m, Preis 12 €"
    contents = {a.name: a.content for a in files["odd-encodings.eml"]}
    assert contents == {
        "notes.txt": b"the notes are here.\n",
        "blob.bin": b"\x00\x01\x02raw\xff\xfe",
    }


def test_an_empty_message_is_stored_and_served(sim: SimHandle) -> None:
    """Zero bytes are a byte sequence too: stored as an empty message, never refused."""
    with sim.control() as control:
        answer = control.post("/_sim/mailboxes/support@contoso.com/messages", content=b"")
    assert answer.status_code == 201
    with sim.control() as control:
        [served] = control.get("/_sim/mailboxes/support@contoso.com/folders/inbox/messages").json()
    assert served["id"] == answer.json()["id"]
