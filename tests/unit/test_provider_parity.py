"""One raw mail, two providers: what the Gmail adapter reads from Gmail's raw MIME is what the
Graph adapter reads from the message Exchange (the simulator) makes of the same bytes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.gmail._convert import attachments_of, b64url_encode
from libs.common.gmail._convert import to_message as from_gmail
from libs.common.mail.models import MailAddress, MailMessage
from libs.common.text.mimetree import parse_tree
from tests.unit.provider_readers import gmail, graph, nested


def _agree(raw: bytes) -> MailMessage:
    """The Gmail reading, once checked against the Graph one field by field (Graph names an
    address without a name by the address itself)."""
    ours, theirs = gmail(raw), graph(raw)
    assert (ours.subject or "") == theirs.subject  # Graph gives "" for no Subject at all
    assert (ours.body, ours.body_type) == (theirs.body, theirs.body_type)
    assert _seen(ours.from_) == _seen(theirs.from_)
    tree = parse_tree(raw)
    for field in ("to", "cc"):
        mine, its = getattr(ours, field), getattr(theirs, field)
        if len(tree.get_all(field, [])) > 1:
            # Several To (or Cc) headers: Gmail's reading keeps them all, the simulator (as
            # Exchange) the first one; what the first one names, both name.
            mine = mine[: len(its)]
        assert [_seen(a) for a in mine] == [_seen(a) for a in its]
    return ours


def _seen(address: MailAddress | None) -> tuple[str, str] | None:
    """An address as Graph shows it: a missing name is the address."""
    return None if address is None else (address.name or address.address, address.address)


def _plain(
    charset: bytes, body: bytes, head: bytes = b"From: ann@x.test\r\nSubject: s\r\n"
) -> bytes:
    return head + b"Content-Type: text/plain; charset=" + charset + b"\r\n\r\n" + body + b"\r\n"


@pytest.mark.parametrize(
    ("charset", "body", "text"),
    [
        (b'"x-unknown"', "Café crème brûlée".encode("cp1252"), "Café crème brûlée"),
        (b"unknown-8bit", "Grüße aus Köln".encode("cp1252"), "Grüße aus Köln"),
        (b'"utf-8\\""', "Grüße".encode(), "Grüße"),
        (b"unicode-1-1-utf-7", b"Caf+AOk-", "Café"),
        (b"bogus-charset-42", "Grüße".encode(), "Grüße"),
    ],
)
def test_unknown_and_bogus_charset_labels_decode_alike(
    charset: bytes, body: bytes, text: str
) -> None:
    assert _agree(_plain(charset, body)).body.strip() == text


def test_raw_8bit_subject_and_from_are_the_mails_charset_not_replacement_characters() -> None:
    head = "From: René Müller <rene@x.test>\r\nSubject: Café au lait\r\n".encode("latin-1")
    found = _agree(_plain(b"iso-8859-1", "Café".encode("latin-1"), head))
    assert found.subject == "Café au lait"
    assert found.from_ is not None and found.from_.name == "René Müller"
    utf8 = "From: Zoë <zoe@x.test>\r\nSubject: Ärger mit 8 bit\r\n".encode()
    assert _agree(_plain(b"utf-8", b"x", utf8)).subject == "Ärger mit 8 bit"


def test_thousands_of_nested_multiparts_keep_the_text_above_the_cut() -> None:
    raw = nested(5000, b"buried text")
    found = _agree(raw)
    assert found.body.strip() == "the text before the nesting"
    # The part cut at the depth limit is one opaque attachment: the rest is not lost.
    (cut,) = attachments_of(raw)
    assert cut.content_type == "application/octet-stream" and b"buried text" in cut.content
    assert found.has_attachments


def test_shallow_nesting_is_read_whole() -> None:
    found = _agree(nested(10, b"inner text"))
    assert found.body.strip() == "the text before the nesting"
    assert attachments_of(nested(10, b"inner text")) == []


def test_the_summary_reads_a_raw_8bit_subject_as_the_full_message_does() -> None:
    # One 8-bit byte is too few for detection: only the mail's own charset reads it right.
    head = "From: Paweł <p@x.test>\r\nSubject: Dzień dobry\r\n".encode("iso-8859-2")
    resource = {"id": "m", "raw": b64url_encode(_plain(b"iso-8859-2", b"x", head))}
    summary = from_gmail(resource, full=False)
    assert summary.subject == from_gmail(resource).subject == "Dzień dobry"
    assert summary.from_ is not None and summary.from_.name == "Paweł"


_CHUNKS = st.sampled_from(
    [
        b"Subject : =?utf-8?B?w4Q=?= =?x?Q?=FF?=\r\n",
        b'From: "a, b" <a@b.example>, =?utf-8?q?x=2C?= <>, ((((x@y.example\r\n',
        b"To: Team: a@x.test, <<<>>>;, \xe9t\xe9@x.test\r\n",
        b"Content-Type: multipart/mixed; boundary=Z\r\n",
        b'Content-Type: text/html; charset="utf-16"\r\n',
        b"Content-Type: message/rfc822\r\n",
        b'Content-Transfer-Encoding: "Base64" (x)\r\n',
        b"Content-Transfer-Encoding: x-uue\r\n",
        b"Content-Disposition: attachment; filename*=utf-8''%FF%C3\r\n",
        b"\r\n",
        b"--Z\r\n",
        b"--Z--\r\n",
        b"begin 644 x\r\n#86)C\r\nend\r\n",
        b"\xff\xfe\x80 garbage\x00\r",
        b"<div><b>" * 40,
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_CHUNKS | st.binary(max_size=40), max_size=30))
def test_any_bytes_read_by_either_provider_never_raise_or_leave_a_surrogate(
    chunks: list[bytes],
) -> None:
    raw = b"".join(chunks)
    texts: list[str] = []
    for message in (gmail(raw), from_gmail({"id": "m", "raw": b64url_encode(raw)}, full=False)):
        assert message.id == "m"
        texts += [message.subject or "", message.body, *(v for _, v in message.headers)]
        texts += [a.name + a.address for a in (message.from_, *message.to) if a is not None]
    texts += [a.name for a in attachments_of(raw)]
    assert not [t for t in texts if re.search("[\ud800-\udfff]", t)]


def test_an_rfc2231_filename_with_8bit_octets_in_its_charset_reads_from_both_providers() -> None:
    """The email package's get_filename raised UnicodeEncodeError on it: the Graph reader
    took the file for unnamed, the Gmail adapter failed on the whole mail."""
    raw = (
        b"From: ann@x.test\r\nTo: help@example.com\r\nSubject: invoice\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nthe invoice\r\n"
        b"--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=\xc3\xa9''x.pdf\r\n\r\nPDF\r\n--b--\r\n"
    )
    assert _agree(raw).has_attachments and graph(raw).has_attachments
    assert [(a.content_type, a.content) for a in attachments_of(raw)] == [
        ("application/pdf", b"PDF")
    ]


_CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "realworld"
_MAILS = sorted(
    p
    for p in _CORPUS.rglob("*")
    if p.is_file()
    and p.suffix not in (".md", ".json")
    and not p.name.startswith(".")
    and "LICENSE" not in p.as_posix()
)


def test_the_corpus_is_there() -> None:
    assert len(_MAILS) > 150


@pytest.mark.parametrize("path", _MAILS, ids=lambda p: p.relative_to(_CORPUS).as_posix())
def test_every_real_world_mail_reads_the_same_from_both_providers(path: Path) -> None:
    found = _agree(path.read_bytes())
    assert found.id == "m"
