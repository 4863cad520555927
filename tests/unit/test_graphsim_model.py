"""The simulator's pure parts: mailbox model, OData query options, MIME parsing, limits."""

from __future__ import annotations

import datetime as dt
import random
from email.message import EmailMessage

import pytest

from libs.graphsim import mime, mimeheaders, mimeparts
from libs.graphsim.errors import GraphHTTPError
from libs.graphsim.limits import Faults, Limiter, Stats
from libs.graphsim.query import check_efficient, matches, parse_filter, parse_select
from libs.graphsim.state import REMOVED, UPSERT, Mailbox, Message

WHEN = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _raw(subject: str = "hello", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "support@contoso.com"
    msg["Subject"] = subject
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content("body text")
    return bytes(msg)


def _add(box: Mailbox, folder: str = "inbox", subject: str = "hello") -> Message:
    fields, atts = mime.parse(_raw(subject), WHEN, box.address)
    target = box.folder(folder)
    assert target is not None
    return box.add(target, fields, b"", atts, WHEN.timestamp())


def test_move_keeps_the_immutable_id_and_replaces_the_rest_id() -> None:
    box = Mailbox("support@contoso.com", "uid", "Support")
    msg = _add(box)
    immutable, rest = msg.immutable_id, msg.rest_id
    box.move(msg, box.destination("Archive"))
    assert msg.immutable_id == immutable
    assert msg.rest_id != rest
    assert box.message(rest) is None
    assert box.message(immutable) is msg
    assert box.counts()["inbox"] == 0
    assert box.counts()["archive"] == 1


def test_changes_since_reports_the_last_change_per_message() -> None:
    box = Mailbox("support@contoso.com", "uid", "Support")
    inbox = box.folder("inbox")
    assert inbox is not None
    kept, gone = _add(box), _add(box)
    cursor = box.seq
    box.touch(kept)
    gone_rest = gone.rest_id
    box.move(gone, box.destination("deleteditems"))
    fresh = _add(box)
    changes = box.changes_since(inbox, cursor)
    assert changes == [
        (UPSERT, kept.immutable_id, kept.rest_id),
        (REMOVED, gone.immutable_id, gone_rest),
        (UPSERT, fresh.immutable_id, fresh.rest_id),
    ]
    assert box.changes_since(inbox, box.seq) == []


def test_destination_creates_a_folder_by_display_name_once() -> None:
    box = Mailbox("support@contoso.com", "uid", "Support")
    first = box.destination("Processed")
    assert box.destination("processed") is first
    assert box.destination(first.id) is first
    assert box.create_folder("Processed") is None


def test_filter_clauses_and_the_orderby_rule() -> None:
    box = Mailbox("support@contoso.com", "uid", "Support")
    msg = _add(box, subject="it's broken")
    clauses = parse_filter(
        "receivedDateTime ge 2026-03-01T00:00:00Z and subject eq 'it''s broken' "
        "and from/emailAddress/address eq 'ALICE@example.org' and isRead eq false"
    )
    assert matches(msg, clauses)
    assert not matches(msg, parse_filter("receivedDateTime gt 2026-03-01T12:00:00Z"))
    check_efficient(clauses, [("receivedDateTime", True)])
    with pytest.raises(GraphHTTPError) as err:
        check_efficient(clauses, [("subject", False)])
    assert err.value.code == "InefficientFilter"
    with pytest.raises(GraphHTTPError):
        parse_filter("subject contains 'x'")


def test_select_is_case_insensitive_and_rejects_unknown_properties() -> None:
    assert parse_select("Subject,RECEIVEDDATETIME") == ["subject", "receivedDateTime"]
    with pytest.raises(GraphHTTPError) as err:
        parse_select("subject,colour")
    assert err.value.status == 400


def test_parse_decodes_words_generates_ids_and_treats_attached_mail_as_one() -> None:
    outer = EmailMessage()
    outer["From"] = "=?utf-8?b?SsO8cmdlbg==?= <j@example.de>"
    outer["To"] = "support@contoso.com"
    outer["Subject"] = "=?utf-8?q?Gr=C3=BC=C3=9Fe?="
    outer.add_alternative("<p>Hi <b>there</b></p>", subtype="html")
    inner = EmailMessage()
    inner["Subject"] = "forwarded"
    inner.set_content("inner body")
    outer.add_attachment(inner)
    fields, atts = mime.parse(bytes(outer), WHEN, "support@contoso.com")
    assert fields["subject"] == "Grüße"
    assert fields["from"]["emailAddress"]["name"] == "Jürgen"
    assert fields["internetMessageId"].endswith("@contoso.com>")
    assert fields["body"]["contentType"] == "html"
    assert fields["bodyPreview"] == "Hi there"
    assert fields["receivedDateTime"] == "2026-03-01T12:00:00Z"
    assert [a["contentType"] for a in atts] == ["message/rfc822"]
    assert fields["hasAttachments"] is True


def test_limiter_counts_concurrency_and_budget_per_app_and_mailbox() -> None:
    faults, stats = Faults(max_concurrency=2, mailbox_budget=3), Stats()
    limiter = Limiter(faults, stats, random.Random(1))
    limiter.enter("app", "a@x.com")
    limiter.enter("app", "a@x.com")
    with pytest.raises(GraphHTTPError) as err:
        limiter.enter("app", "a@x.com")
    assert err.value.status == 429
    assert err.value.headers["Retry-After"] == "1"
    assert stats.max_concurrency["a@x.com"] == 3
    limiter.leave("app", "a@x.com")
    limiter.enter("app", "a@x.com")  # the third request of the budget
    limiter.leave("app", "a@x.com")
    limiter.leave("app", "a@x.com")
    with pytest.raises(GraphHTTPError):
        limiter.enter("app", "a@x.com")
    limiter.enter("other-app", "a@x.com")
    assert limiter.inflight == {("other-app", "a@x.com"): 1}


def test_address_headers_no_parser_can_split_are_kept_as_text() -> None:
    (garbage,) = mimeheaders.recipients('<<<>>> @@@ ,,, "')
    assert garbage["emailAddress"] == {"name": '<<<>>> @@@ ,,, "', "address": ""}
    assert mimeheaders.recipients("undisclosed-recipients:;") == []
    literal = mimeheaders.recipients("ann@[192.0.2.1]")
    assert literal[0]["emailAddress"]["address"] == "ann@[192.0.2.1]"
    deep = mimeheaders.recipients("(" * 5000 + "x@example.org")
    assert deep[0]["emailAddress"]["address"] == "x@example.org"
    pair = mimeheaders.recipients('"Doe, J" <j@x.org>, =?utf-8?q?M=C3=BCller=2C_A?= <m@x.org>')
    assert [r["emailAddress"]["name"] for r in pair] == ["Doe, J", "Müller, A"]


def test_nesting_past_the_cut_is_one_leaf() -> None:
    depth = mimeparts.MAX_DEPTH + 500
    raw = b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n" + b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
        for i in range(depth)
    )
    (leaf,) = list(mimeparts.leaves(mimeparts.parse_tree(raw)))
    assert leaf.cut
    assert leaf.depth == mimeparts.MAX_DEPTH
    assert leaf.get_content_type() == "application/octet-stream"


def test_mail_the_mime_parser_cannot_take_apart_is_served_as_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(raw: bytes) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(mimeparts, "parse_tree", refuse)
    raw = b"Subject: Gr\xf6\xdfe\r\nFrom: ann@example.org\r\n\r\nGr\xfc\xdfe"
    fields, attachments = mime.parse(raw, WHEN, "support@contoso.com")
    assert fields["subject"] == "Größe"
    assert fields["body"] == {"contentType": "text", "content": raw.decode("cp1252")}
    assert fields["internetMessageId"].endswith("@contoso.com>")
    assert attachments == []
