"""Replying from the console, the pure part: which From an agent may choose, what a reply form
may carry, and the OutboundEmail job it becomes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from libs.common.errors import ContractError
from services.web.domain.replying import (
    MAX_FILE_BYTES,
    MAX_TEXT,
    Draft,
    Reply,
    SendingPolicy,
    Upload,
    build_job,
    from_choices,
    inline_attachment,
    problems,
    reply_subject,
)

BOX = "support@contoso.com"
ALICE = "alice@contoso.com"
KEY = "0123456789abcdef0123456789abcdef"


def test_the_mailbox_is_always_a_choice_the_agent_only_when_allowed_and_listed() -> None:
    listed = SendingPolicy(BOX, allow_personal=True, send_as=("Alice@Contoso.com",))
    assert from_choices(listed, ALICE) == (BOX, ALICE)
    assert from_choices(listed, "ALICE@contoso.com") == (BOX, ALICE)
    # Not allowed, not listed, no personal address: the mailbox only.
    assert from_choices(SendingPolicy(BOX, False, (ALICE,)), ALICE) == (BOX,)
    assert from_choices(SendingPolicy(BOX, True, ("bob@contoso.com",)), ALICE) == (BOX,)
    assert from_choices(listed, None) == (BOX,)
    assert from_choices(listed, "") == (BOX,)


def _draft(**changes: object) -> Draft:
    values: dict[str, object] = {"text": "It works again.", "from_address": BOX, "key": KEY}
    values.update(changes)
    return Draft(**values)  # type: ignore[arg-type]


def test_a_good_draft_has_no_problems() -> None:
    assert problems(_draft(), (BOX, ALICE)) == {}
    assert problems(_draft(from_address=ALICE.upper()), (BOX, ALICE)) == {}


def test_each_wrong_field_is_named() -> None:
    assert set(problems(_draft(text="  \n"), (BOX,))) == {"text"}
    assert "at most" in problems(_draft(text="x" * (MAX_TEXT + 1)), (BOX,))["text"]
    forged = problems(_draft(from_address="mallory@contoso.com"), (BOX,))
    assert set(forged) == {"from_address"}
    assert "mallory@contoso.com" in forged["from_address"] and BOX in forged["from_address"]
    big = Upload("big.bin", "application/octet-stream", b"x" * (MAX_FILE_BYTES + 1))
    assert "big.bin" in problems(_draft(files=(big,)), (BOX,))["attachments"]
    assert "reload" in problems(_draft(key="not-a-key"), (BOX,))["text"]


def test_the_subject_is_re_once_and_made_sendable() -> None:
    assert reply_subject("Printer broken") == "Re: Printer broken"
    assert reply_subject("RE: Printer broken") == "Re: Printer broken"
    assert reply_subject("AW: WG: Re[2]: Drucker") == "Re: Drucker"
    assert reply_subject("回复\uff1a打印机") == "Re: 打印机"
    assert reply_subject("Read: the manual") == "Re: Read: the manual"
    assert reply_subject("=?utf-8?q?x?= \x0b line") == "Re: = ?utf-8?q?x?= line"


def _reply(**changes: object) -> Reply:
    values: dict[str, object] = {
        "record_id": 42,
        "key": KEY,
        "mailbox": BOX,
        "from_address": BOX,
        "to": "customer@example.org",
        "subject": "Printer broken",
        "text": "It works again.",
        "in_reply_to": "<q2@example.org>",
        "references": ("<q1@example.org>", "<q2@example.org>"),
        "attachments": (),
        "created_at": datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
    }
    values.update(changes)
    return Reply(**values)  # type: ignore[arg-type]


def test_the_job_of_a_reply_from_the_mailbox() -> None:
    job = build_job(_reply())
    assert job.job_id == f"console-42-{KEY}"
    assert job.mailbox == BOX and job.from_address is None
    assert [a.address for a in job.to] == ["customer@example.org"]
    assert job.subject == "Re: Printer broken" and job.text == "It works again."
    assert job.in_reply_to == "<q2@example.org>"
    assert list(job.references) == ["<q1@example.org>", "<q2@example.org>"]
    assert job.record_id == 42


def test_the_job_of_a_reply_as_the_agent_with_a_file() -> None:
    file = inline_attachment(Upload("report.txt", "text/plain", b"report"))
    job = build_job(_reply(from_address=ALICE, attachments=(file,)))
    assert job.from_address == ALICE
    (attachment,) = job.attachments
    assert attachment.name == "report.txt" and attachment.content_type == "text/plain"
    assert base64.b64decode(attachment.content_base64 or "") == b"report"


def test_the_same_form_is_the_same_job_and_a_bad_address_a_contract_error() -> None:
    assert build_job(_reply()).job_id == build_job(_reply(text="again")).job_id
    with pytest.raises(ContractError):
        build_job(_reply(to="not an address"))
