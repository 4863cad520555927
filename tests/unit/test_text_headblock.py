"""Header blocks with odd syntax: the mail still gets its subject, sender, recipients and body
on every reader (the ticketer, the Gmail adapter, the Graph simulator)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.text.headblock import mend_head
from services.ticketer.domain.mime import parse_mime
from tests.unit.provider_readers import gmail, graph

TAIL = b"To: help@example.com\r\nMessage-ID: <odd@x.test>\r\n"


@pytest.mark.parametrize(
    "head",
    [
        b"From: Ann <ann@x.test>\r\nSubject : Printer broken\r\n",  # a blank before the colon
        b"Subject\t: Printer broken\r\nFrom : Ann <ann@x.test>\r\n",
        b"From: Ann <ann@x.test>\r\nSubject: Printer\x00 broken\r\n",  # a NUL in a value
        b"From: Ann <ann@x.test>\r\nSubject: Printer\rbroken\r\n",  # a bare CR in a value
        b"From: Ann <ann@x.test>\r\nSubject:\r\n Printer\r\n \r\n broken\r\n",  # obsolete fold
    ],
)
def test_odd_header_lines_keep_every_header(head: bytes) -> None:
    raw = head + TAIL + b"\r\nIt jams on every page.\r\n"
    facts = parse_mime(raw).facts
    assert facts.subject == "Printer broken"
    assert facts.from_ is not None and (facts.from_.name, facts.from_.address) == (
        "Ann",
        "ann@x.test",
    )
    assert [a.address for a in facts.to] == ["help@example.com"]
    assert facts.message_id == "<odd@x.test>"
    assert facts.text is not None and facts.text.strip() == "It jams on every page."
    for provider in (gmail(raw), graph(raw)):
        assert provider.subject == "Printer broken"
        assert provider.from_ is not None and provider.from_.address == "ann@x.test"
        assert [a.address for a in provider.to] == ["help@example.com"]
        assert provider.body.strip() == "It jams on every page."


def test_a_body_without_the_empty_line_before_it_is_still_the_body() -> None:
    raw = b"From: ann@x.test\r\nSubject: Printer broken\r\n" + TAIL + b"It jams, please help.\r\n"
    facts = parse_mime(raw).facts
    assert (facts.subject, facts.message_id) == ("Printer broken", "<odd@x.test>")
    assert facts.text is not None and facts.text.strip() == "It jams, please help."
    assert gmail(raw).body.strip() == graph(raw).body.strip() == "It jams, please help."


def test_a_mail_whose_lines_end_in_bare_crs_keeps_its_headers() -> None:
    """Classic Mac OS line endings: each CR ends a line (not a blank inside one)."""
    raw = b"From: Ann <ann@x.test>\rTo: help@example.com\rSubject: Old Mac\r"
    raw += b"Message-ID: <cr@x.test>\r\rIt jams.\r"
    assert mend_head(raw) == raw
    facts = parse_mime(raw).facts
    assert (facts.subject, facts.message_id) == ("Old Mac", "<cr@x.test>")
    for provider in (gmail(raw), graph(raw)):
        assert provider.subject == "Old Mac"
        assert provider.from_ is not None and provider.from_.address == "ann@x.test"


def test_mending_touches_only_what_needs_it() -> None:
    plain = b"From: a@x.test\r\nSubject: x\r\n\r\nbody : with\rodd\x00bytes\r\n"
    assert mend_head(plain) is plain
    assert mend_head(b"From a@x.test Mon Jan  1 00:00:00 2026\nSubject: x\n\nb").endswith(b"\n\nb")
    assert mend_head(b"no header at all\r\n\r\nbody") == b"no header at all\r\n\r\nbody"
    assert mend_head(b"Subject : x\n\nbody : y") == b"Subject: x\n\nbody : y"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [b"Subject : x", b"From: a@x.test", b" folded", b"\t", b"Body words", b"From x"]
        )
        | st.binary(max_size=12),
        max_size=12,
    ),
    st.sampled_from([b"\r\n", b"\n"]),
)
def test_mending_is_done_once_and_keeps_the_body(lines: list[bytes], eol: bytes) -> None:
    raw = eol.join(lines) + eol + eol + b"the body\r\x00 stays"
    mended = mend_head(raw)
    assert mend_head(mended) == mended
    assert mended.endswith(b"the body\r\x00 stays")
