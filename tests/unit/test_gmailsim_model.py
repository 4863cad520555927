"""The Gmail simulator's mailbox model without a server: any bytes are a message served in
every format, threads by references and subject, history ids and their expiry."""

from __future__ import annotations

import base64
import json
import random

import pytest

from libs.gmailsim.limits import Stats
from libs.gmailsim.messages import render
from libs.gmailsim.state import Mailbox


def _deep(levels: int) -> bytes:
    nesting = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(levels)
    )
    return b"Subject: deep\r\n" + nesting + b"Content-Type: text/plain\r\n\r\nhi\r\n"


ODD = [
    b"",
    b"\xff\xfe\x00garbage",
    b"Subject: \xe9\xff\r\nFrom: <<<>>> @@@\r\n\r\n\xff\xfe",
    b"Content-Type: text/plain; charset=bogus\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!",
    _deep(70),
    _deep(3000),
]


@pytest.mark.parametrize("raw", ODD + [random.Random(7).randbytes(300) for _ in range(20)])
def test_any_bytes_are_served_in_every_format(raw: bytes) -> None:
    box = Mailbox("support@example.com")
    msg = box.add(raw, {"INBOX"}, 0, None)
    for fmt in ("minimal", "metadata", "full", "raw"):
        body = render(msg, fmt)
        json.dumps(body, ensure_ascii=False).encode()  # no lone surrogate anywhere
        assert body["id"] == msg.id
    assert base64.urlsafe_b64decode(render(msg, "raw")["raw"]) == raw


def test_a_reply_joins_the_thread_only_with_a_matching_subject() -> None:
    box = Mailbox("support@example.com")
    first = box.add(b"Subject: Printer\r\nMessage-ID: <a@x>\r\n\r\nhi", {"INBOX"}, 0, None)
    reply = box.add(
        b"Subject: RE: Fwd: printer\r\nIn-Reply-To: <a@x>\r\n\r\nre", {"INBOX"}, 1, None
    )
    other = box.add(b"Subject: Something else\r\nReferences: <a@x>\r\n\r\nx", {"INBOX"}, 2, None)
    assert reply.thread_id == first.thread_id
    assert other.thread_id == other.id != first.thread_id
    assert box.threads_total() == 2


def test_history_ids_grow_on_every_change_and_expire() -> None:
    box = Mailbox("support@example.com")
    msg = box.add(b"Subject: a\r\n\r\n", {"INBOX", "UNREAD"}, 0, None)
    added = msg.history_id
    box.change_labels(msg, {"TRASH"}, {"INBOX"})
    assert [hid for hid, _ in box.history] == [added, added + 1, added + 2]
    assert msg.history_id == box.history_id == added + 2
    box.change_labels(msg, {"TRASH"}, set())  # nothing changes: no record
    assert box.history_id == added + 2
    box.expire_history()
    assert box.history == [] and box.history_floor == box.history_id


def test_history_reader_changes_count_turns_not_reads() -> None:
    stats = Stats()
    for reader in (1, 1, 1, 2, 2):  # one poller, then a hand-over to another
        stats.history_read("a@x.org", reader)
    for reader in (3, 4, 3, 4):  # two pollers taking turns
        stats.history_read("b@x.org", reader)
    assert stats.as_dict()["history_reader_changes"] == {"a@x.org": 1, "b@x.org": 3}
