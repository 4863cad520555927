"""The fetcher's pure mapping: the mail port's MailMessage → InboundEmail, headers →
MailHeaders, which mails need attachments or raw MIME, and what to do with a processed mail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.after_processing import Delete, Move, action_of
from libs.common.contracts import (
    MAX_BODY_CHARS,
    AttachmentRef,
    BlobRef,
    InboundEmail,
    check_address,
)
from libs.common.mail import MailAddress, MailMessage
from services.fetcher.domain import (
    Step,
    build_inbound,
    extract_headers,
    needs_attachments,
    needs_raw_mime,
    parse_address,
    plan_step,
)
from services.fetcher.domain import headers as headers_module
from services.fetcher.domain.headers import clean_value, unfold
from services.fetcher.domain.mapping import attachment_ref, parse_time

FETCHED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BLOB = BlobRef(sha256="a" * 64, size=3)


def addr(address: str, name: str = "") -> MailAddress:
    return MailAddress(address, name)


def graph_message(**overrides: Any) -> MailMessage:
    message = MailMessage(
        id="AAMkAD-1=",
        internet_message_id="<m1@customer.example>",
        conversation_id="conv-1",
        received_at="2026-11-26T09:30:00Z",
        subject="Printer broken",
        from_=addr("jane@customer.example", "Jane Doe"),
        sender=addr("jane@customer.example", "Jane Doe"),
        to=(addr("support@contoso.com", "Support"),),
        has_attachments=False,
        body="It jams.",
        headers=(("Message-ID", "<m1@customer.example>"),),
    )
    return replace(message, **overrides)


def build(
    message: MailMessage,
    attachments: Sequence[AttachmentRef] = (),
    raw_mime: BlobRef | None = None,
) -> InboundEmail:
    return build_inbound(
        message,
        mailbox="support@contoso.com",
        provider="microsoft",
        folder="inbox",
        fetched_at=FETCHED,
        attachments=attachments,
        raw_mime=raw_mime,
    )


def test_a_plain_mail_maps_field_by_field() -> None:
    email = build(graph_message())
    assert email.message_id == "AAMkAD-1="
    assert email.mailbox == "support@contoso.com" and email.folder == "inbox"
    assert email.internet_message_id == "<m1@customer.example>"
    assert email.conversation_id == "conv-1"
    assert email.received_at == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert email.fetched_at == FETCHED
    assert email.from_ is not None and email.from_.address == "jane@customer.example"
    assert email.from_.name == "Jane Doe"
    assert [a.address for a in email.to] == ["support@contoso.com"]
    assert email.cc == () and email.reply_to == ()
    assert email.subject == "Printer broken"
    assert email.body.text == "It jams." and email.body.html is None
    assert not email.body.truncated and email.body.original_chars == 8
    assert email.raw_mime is None and email.attachments == ()
    # and it survives the wire
    assert InboundEmail.from_json(email.to_json()) == email


def test_non_ascii_names_subjects_and_bodies_are_kept() -> None:
    email = build(
        graph_message(
            subject="Drucker kaputt · Grüße 日本語",
            from_=addr("jürgen@bücher.example", "Jürgen Müller"),
            body="<p>Größe: 日本</p>",
            body_type="html",
        )
    )
    assert email.subject == "Drucker kaputt · Grüße 日本語"
    assert email.from_ is not None and email.from_.address == "jürgen@bücher.example"
    assert email.from_.name == "Jürgen Müller"
    assert email.body.html == "<p>Größe: 日本</p>" and email.body.text is None


def test_missing_and_malformed_fields_do_not_stop_the_mail() -> None:
    message = MailMessage(
        id="AAMk-2=",
        from_=addr("/O=EXCHANGELABS/OU=EXCHANGE/CN=RECIPIENTS"),
        to=(addr(""), addr("ok@example.com"), addr("a b@example.com")),
        subject=None,
        received_at="not a time",
    )
    email = build(message)
    assert email.from_ is None and email.sender is None
    assert [a.address for a in email.to] == ["ok@example.com"]
    assert email.subject == "" and email.internet_message_id is None
    assert email.received_at == FETCHED, "a missing time falls back to the fetch time"
    assert email.body.text is None and email.body.html is None
    assert email.headers.in_reply_to is None and email.headers.references == ()


def test_times_are_utc_whatever_graph_sends() -> None:
    assert parse_time("2026-11-26T10:00:00+02:00", FETCHED) == datetime(
        2026, 11, 26, 8, 0, tzinfo=UTC
    )
    naive = parse_time("2026-11-26T10:00:00", FETCHED)
    assert naive.utcoffset() == timedelta(0) and naive.hour == 10
    email = build_inbound(
        graph_message(),
        mailbox="support@contoso.com",
        provider="microsoft",
        folder="inbox",
        fetched_at=datetime(2026, 11, 26, 13, 0, tzinfo=timezone(timedelta(hours=1))),
    )
    assert email.fetched_at == FETCHED and email.fetched_at.utcoffset() == timedelta(0)


def test_an_oversized_body_is_truncated_with_a_flag() -> None:
    content = "x" * (MAX_BODY_CHARS + 10)
    email = build(graph_message(body=content))
    assert email.body.truncated
    assert email.body.original_chars == MAX_BODY_CHARS + 10
    assert email.body.text is not None and len(email.body.text) == MAX_BODY_CHARS


def test_headers_threading_loop_and_marker_fields() -> None:
    headers = extract_headers(
        [
            ("In-Reply-To", "<parent@customer.example>"),
            ("References", "<root@x.example>\r\n <parent@customer.example>"),
            ("Auto-Submitted", "auto-replied"),
            ("Precedence", "bulk"),
            ("X-Auto-Response-Suppress", "All"),
            ("X-Loop", "support@contoso.com"),
            ("Return-Path", "<>"),
            ("Content-Type", 'multipart/report; report-type="delivery-status"'),
            ("X-Autoreply", "yes"),
            ("X-MS-Exchange-Inbox-Rules-Loop", "support@contoso.com"),
            ("X-Mailpipe-Job", "ack:support@contoso.com:7"),
            ("X-Mailpipe-Record", "7"),
            ("Received", "from somewhere"),
            ("X-Spam-Score", "1"),
            ("", "a header without a name is left out"),
        ]
    )
    assert headers.in_reply_to == "<parent@customer.example>"
    assert headers.references == ("<root@x.example>", "<parent@customer.example>")
    assert headers.auto_submitted == "auto-replied"
    assert headers.precedence == "bulk"
    assert headers.x_auto_response_suppress == "All"
    assert headers.x_loop == "support@contoso.com"
    assert headers.return_path == "<>"
    assert headers.content_type is not None and headers.content_type.startswith("multipart/report")
    assert headers.other == {
        "x-autoreply": "yes",
        "x-ms-exchange-inbox-rules-loop": "support@contoso.com",
    }
    assert headers.x_mailpipe == {
        "x-mailpipe-job": "ack:support@contoso.com:7",
        "x-mailpipe-record": "7",
    }


def test_header_values_are_unfolded_bounded_and_references_capped() -> None:
    refs = " ".join(f"<r{n}@x.example>" for n in range(300))
    headers = extract_headers(
        [
            ("References", refs),
            ("X-Loop", "a\r\n\tb" + "c" * 2000),
            ("x-loop", "second"),
        ]
    )
    assert len(headers.references) == 200
    assert headers.references[0] == "<r0@x.example>", "the thread's root is kept"
    assert headers.references[-1] == "<r299@x.example>", "and the newest"
    assert headers.x_loop is not None and headers.x_loop.startswith("a b")
    assert len(headers.x_loop) == 998 and "\n" not in headers.x_loop
    assert extract_headers(None) == extract_headers([])


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (graph_message(has_attachments=True), True),
        (graph_message(), False),
        (graph_message(body='<img src="CID:logo@x">', body_type="html"), True),
        (graph_message(body="see cid:logo"), False),
    ],
)
def test_attachments_are_fetched_for_files_and_inline_images(
    message: MailMessage, expected: bool
) -> None:
    assert needs_attachments(message) is expected


def test_raw_mime_for_reports_and_daemon_senders_or_when_configured() -> None:
    plain = graph_message()
    assert not needs_raw_mime(plain, keep_raw_mime=False)
    assert needs_raw_mime(plain, keep_raw_mime=True)
    report = graph_message(
        headers=(("Content-Type", "multipart/report; report-type=delivery-status"),)
    )
    assert needs_raw_mime(report, keep_raw_mime=False)
    daemon = graph_message(from_=addr("MAILER-DAEMON@mx.example"), sender=None)
    assert needs_raw_mime(daemon, keep_raw_mime=False)
    postmaster = graph_message(from_=addr("postmaster@contoso.com"))
    assert needs_raw_mime(postmaster, keep_raw_mime=False)
    nobody = graph_message(from_=None, sender=None)
    assert needs_raw_mime(nobody, keep_raw_mime=False)
    x500 = graph_message(from_=addr("/O=EXCHANGELABS/OU=EXCHANGE/CN=RECIPIENTS"), sender=None)
    assert needs_raw_mime(x500, keep_raw_mime=False), "no address: maybe a report"


def test_headers_extracted_once_give_the_same_contract_and_raw_mime_rule() -> None:
    """The builder extracts a mail's headers once for both the raw-MIME rule and the
    contract: the same answers, byte for byte, as when each extracts them itself."""
    for message in (
        graph_message(),
        graph_message(
            headers=(
                ("Content-Type", "multipart/report; report-type=delivery-status"),
                ("In-Reply-To", "<a@x.example>"),
                ("References", "<r@x.example>\r\n <a@x.example>"),
                ("Auto-Submitted", "auto-replied"),
            )
        ),
    ):
        headers = extract_headers(message.headers)
        for keep in (False, True):
            assert needs_raw_mime(message, keep_raw_mime=keep, headers=headers) is (
                needs_raw_mime(message, keep_raw_mime=keep)
            )
        given = build_inbound(
            message,
            mailbox="support@contoso.com",
            provider="microsoft",
            folder="inbox",
            fetched_at=FETCHED,
            headers=headers,
        )
        assert given.to_json() == build(message).to_json()


def test_attachment_refs_and_blob_references_reach_the_contract() -> None:
    ref = attachment_ref("logo.png", "image/png", BLOB, is_inline=True, content_id="<logo@x>")
    assert ref.content_id == "logo@x" and ref.is_inline
    unnamed = attachment_ref("", "", BLOB)
    assert unnamed.name == "attachment" and unnamed.content_type == "application/octet-stream"
    email = build(graph_message(), attachments=[ref, unnamed], raw_mime=BLOB)
    assert email.attachments == (ref, unnamed) and email.raw_mime == BLOB


def test_parse_address_checks_the_address_and_unfolds_the_name() -> None:
    assert parse_address(addr("a@b.example")) is not None
    padded = parse_address(addr("  a@b.example ", "A\r\nB"))
    assert padded is not None and (padded.address, padded.name) == ("a@b.example", "A B")
    assert parse_address(None) is None and parse_address(addr("nobody")) is None
    assert parse_address(addr("a" * 310 + "@b.example")) is None


@pytest.mark.parametrize(
    ("outcome", "move", "copy", "expected"),
    [
        ("created", None, None, Step("delete")),
        ("appended", "Processed", None, Step("move", "Processed")),
        ("ignored", None, "Archive", Step("copy_delete", "Archive")),
        ("created", "Processed", "Archive", Step("copy_delete", "Archive")),
        ("quarantined", "Processed", "Archive", Step("quarantine", "mailpipe-quarantine")),
    ],
)
def test_plan_step_follows_the_mailbox_settings(
    outcome: str, move: str | None, copy: str | None, expected: Step
) -> None:
    # The mailbox's action as the settings make it from after_processing and copy_to_folder.
    action = action_of(Move(move) if move else Delete(), copy)
    step = plan_step(outcome, action=action, quarantine_folder="mailpipe-quarantine")
    assert step == expected


def test_an_overlong_message_id_is_one_digest_in_every_field() -> None:
    """A 1,500-character Message-ID used to be cut (losing its ``>``) and "repaired" again
    later into a value no contract accepted; now every field carries the same digest."""
    from libs.common.msgid import canonical_message_id

    long_id = "<" + "m" * 1500 + "@customer.example>"
    digest = canonical_message_id(long_id)
    message = MailMessage(
        id="AAMk-long",
        internet_message_id=long_id,
        subject="hello",
        headers=(("In-Reply-To", long_id), ("References", f"<root@a.example> {long_id}")),
    )
    email = build_inbound(
        message,
        mailbox="support@contoso.com",
        provider="microsoft",
        folder="inbox",
        fetched_at=datetime.now(UTC),
    )
    assert email.internet_message_id == digest
    assert email.headers.in_reply_to == digest
    assert email.headers.references == ("<root@a.example>", digest)
    assert type(email).from_json(email.to_json()) == email


def test_line_breakers_and_controls_in_received_headers_become_spaces() -> None:
    # A subject encoded as =?utf-8?Q?hello=0Bworld?= arrives from Graph with a vertical tab.
    email = build(
        graph_message(
            subject="hello\x0bworld\u2028again\x85x",
            from_=addr("ann@customer.example", "Ann\x0cExample"),
        )
    )
    assert email.subject == "hello world again x"
    assert email.from_ is not None and email.from_.name == "Ann Example"


_HEADER_NAMES = st.sampled_from(
    [
        "Received",
        "DKIM-Signature",
        "References",
        "references ",
        "In-Reply-To",
        "Auto-Submitted",
        "Content-Type",
        "X-Mailpipe-Record",
        "x-mailpipe-job",
        "List-Id",
        "X-Autoreply",
        "Subject",
        "",
    ]
)
_HEADER_VALUES = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "Zs", "Cc")), max_size=60
) | st.sampled_from(["<a@x.example>", "<a@x.example>\r\n <b@x.example>", "auto-replied"])


@settings(max_examples=200, deadline=None)
@given(raw=st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=12))
def test_only_kept_headers_are_unfolded_with_the_same_result(raw: list[tuple[str, str]]) -> None:
    """The headers no field keeps (Received, DKIM…) are skipped before they are unfolded:
    the same MailHeaders as unfolding every header first."""
    ours = extract_headers(raw)

    def every(pairs: Any) -> list[tuple[str, str]]:
        return [(n.strip().lower(), unfold(v)) for n, v in pairs or () if n]

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(headers_module, "_pairs", every)
        assert extract_headers(raw) == ours


@settings(max_examples=300, deadline=None)
@given(
    address=st.text(max_size=40)
    | st.sampled_from(["a@b.example", " a@b.example ", "=?utf-8?q?x?=@b.example", "a..b@c.example"])
    | st.builds(lambda n: "a" * n + "@b.example", st.integers(300, 330)),
    name=st.text(max_size=30),
)
def test_parse_address_keeps_exactly_what_check_address_accepts(address: str, name: str) -> None:
    kept = parse_address(addr(address, name))
    stripped = address.strip()
    try:
        check_address(stripped)
        valid = len(stripped) <= 320
    except ValueError:
        valid = False
    assert (kept is not None) is valid
    if kept is not None:
        assert (kept.address, kept.name) == (stripped, clean_value(name))
