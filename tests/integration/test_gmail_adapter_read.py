"""The Gmail adapter reading and changing a simulated mailbox: history cursors, the resync
after an expired one, trash, labels as folders, the batch endpoint."""

from __future__ import annotations

import pytest

from libs.common.mail import MailNotFound
from libs.gmailsim.testing import GmailSimHandle
from tests.gmailsim_helpers import counts, mail, seed

from .gmail_adapter_helpers import BOX, calls, gmail_box

pytestmark = pytest.mark.timeout(120)


def test_changes_come_from_the_history_after_the_first_round(gsim: GmailSimHandle) -> None:
    first = seed(gsim, BOX, mail("First"))["id"]
    with gmail_box(gsim) as box:
        start = box.delta("inbox")
        assert [m.id for m in start.messages] == [first] and not start.resynced
        second = seed(gsim, BOX, mail("Second"))["id"]
        box.move(first, "Processed")
        before = calls(gsim, "GET users/{u}/history")
        again = box.delta("inbox", start.cursor)
    assert calls(gsim, "GET users/{u}/history") == before + 1
    assert [m.id for m in again.messages] == [second] and again.removed == [first]
    assert int(again.cursor) > int(start.cursor)


def test_a_first_round_misses_nothing_when_each_page_is_trashed_before_the_next(
    gsim: GmailSimHandle,
) -> None:
    seeded = {seed(gsim, BOX, mail(f"Backlog {n}"))["id"] for n in range(7)}
    seen: list[str] = []
    with gmail_box(gsim) as box:
        pages = box.iter_delta("inbox", None, page_size=2)
        for page in pages:
            seen += [m.id for m in page.messages]
            box.delete_many([m.id for m in page.messages])  # as the fetcher does, page by page
        assert page.cursor is not None
        later = box.delta("inbox", page.cursor)
    assert sorted(seen) == sorted(seeded) and len(seen) == 7
    assert later.messages == [] and counts(gsim, BOX)["labels"]["inbox"] == 0


def test_an_expired_history_id_lists_the_label_again(gsim: GmailSimHandle) -> None:
    kept = seed(gsim, BOX, mail("Kept"))["id"]
    with gmail_box(gsim) as box:
        start = box.delta("inbox")
        with gsim.control() as control:
            control.post(f"/_sim/mailboxes/{BOX}/expire-history").raise_for_status()
        again = box.delta("inbox", start.cursor)
        assert again.resynced and [m.id for m in again.messages] == [kept]
        quiet = box.delta("inbox", again.cursor)  # the new cursor is a valid history id
    assert not quiet.resynced and quiet.messages == []


def test_a_full_message_has_its_fields(gsim: GmailSimHandle) -> None:
    raw = (
        b"From: Ann <ann@outside.test>\r\nTo: support@example.com\r\nCc: bob@outside.test\r\n"
        b"Subject: =?utf-8?q?Caf=C3=A9?=\r\nMessage-ID: <m1@outside.test>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi</p>\r\n"
    )
    gid = seed(gsim, BOX, raw)["id"]
    with gmail_box(gsim) as box:
        message = box.get_message(gid)
    assert message.subject == "Café" and message.internet_message_id == "<m1@outside.test>"
    assert message.from_ is not None and (message.from_.name, message.from_.address) == (
        "Ann",
        "ann@outside.test",
    )
    assert [a.address for a in message.cc] == ["bob@outside.test"]
    assert (message.body_type, message.body.strip()) == ("html", "<p>Hi</p>")
    assert message.conversation_id and message.received_at and message.received_at.endswith("Z")
    assert ("Message-ID", "<m1@outside.test>") in message.headers


def test_remove_is_trash_and_a_trashed_message_is_gone(gsim: GmailSimHandle) -> None:
    gid = seed(gsim, BOX, mail("Spam"))["id"]
    with gmail_box(gsim) as box:
        assert box.delete(gid) is True
        assert box.delete(gid) is False
        with pytest.raises(MailNotFound):
            box.get_mime(gid)
    labels = counts(gsim, BOX)["labels"]
    assert (labels["inbox"], labels["trash"]) == (0, 1)


def test_folders_are_labels(gsim: GmailSimHandle) -> None:
    ids = [seed(gsim, BOX, mail(f"T{i}"))["id"] for i in range(3)]
    with gmail_box(gsim) as box:
        assert box.move(ids[0], "mailpipe-quarantine") == ids[0]
        assert box.copy(ids[1], "Handled") == ids[1]
        assert [m.id for m in box.list_messages("mailpipe-quarantine")] == [ids[0]]
        # Replaying a quarantined mail moves it back: the quarantine label comes off.
        box.move(ids[0], "inbox")
        assert box.list_messages("mailpipe-quarantine") == []
        inbox = {m.id for m in box.list_messages("inbox")}
    assert inbox == set(ids)
    labels = counts(gsim, BOX)["labels"]
    assert (labels["Handled"], labels["inbox"]) == (1, 3)


def test_many_messages_go_in_batches_within_the_quota(gsim: GmailSimHandle) -> None:
    # 60 reads of 5 units: 40 in the first batch (the adapter's 200 units a second), 20 next.
    ids = [seed(gsim, BOX, mail(f"Bulk {i}"))["id"] for i in range(60)]
    with gmail_box(gsim) as box:
        before = calls(gsim, "POST batch")
        got = box.get_messages_many(ids)
        assert calls(gsim, "POST batch") == before + 2
        assert list(got) == ids and all(not isinstance(m, Exception) for m in got.values())
        moved = box.move_many(ids[:30], "Archive")
        assert all(o.done and o.body["id"] == i for i, o in moved.items())
        removed = box.delete_many(ids[30:])
        assert all(o.outcome == "ok" for o in removed.values())
    labels = counts(gsim, BOX)["labels"]
    assert (labels["Archive"], labels["trash"], labels["inbox"]) == (30, 30, 0)
    assert calls(gsim, "POST users/{u}/messages/batchModify") == 1


def test_attachments_after_a_read_cost_no_second_read(gsim: GmailSimHandle) -> None:
    raw = mail("With file", extra="MIME-Version: 1.0")
    gid = seed(gsim, BOX, raw)["id"]
    with gmail_box(gsim) as box:
        (page,) = box.iter_delta("inbox")
        assert [m.id for m in page.messages] == [gid]
        batches = calls(gsim, "POST batch")
        gets = calls(gsim, "GET users/{u}/messages/{id}")
        assert box.get_attachments_many([gid]) == {gid: []}
        assert box.get_mime(gid) == raw
        assert (calls(gsim, "POST batch"), calls(gsim, "GET users/{u}/messages/{id}")) == (
            batches,
            gets,
        )
        box.delete(gid)  # a removed message is forgotten: gone to every read
        assert isinstance(box.get_attachments_many([gid])[gid], MailNotFound)
