"""Send path by size, with the Graph adapter's limits: one MIME sendMail, or draft + upload
sessions."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from libs.common.graph._send import (
    ATTACHMENT_POST_LIMIT_BYTES,
    GRAPH_REQUEST_LIMIT_BYTES,
    MIME_SEND_LIMIT_BYTES,
    SEND_LIMITS,
)
from libs.common.mail import SendLimits
from services.sender.domain.attachments import AttachmentBytes
from services.sender.domain.sizing import MessageTooLarge, mime_cost
from services.sender.domain.sizing import choose_send_path as _choose_send_path
from services.sender.domain.sizing import plan_draft as _plan_draft

MB = 1_000_000


def choose_send_path(size: int, attachments: list[AttachmentBytes]) -> str:
    return _choose_send_path(size, attachments, SEND_LIMITS)


def plan_draft(size: int, attachments: list[AttachmentBytes]) -> Any:
    return _plan_draft(size, attachments, SEND_LIMITS)


def att(size: int, name: str = "f.bin") -> AttachmentBytes:
    return AttachmentBytes(name, b"\0" * size)


def test_the_mime_limit_fits_one_request_after_base64() -> None:
    assert len(base64.b64encode(b"\0" * MIME_SEND_LIMIT_BYTES)) < GRAPH_REQUEST_LIMIT_BYTES
    assert len(base64.b64encode(b"\0" * ATTACHMENT_POST_LIMIT_BYTES)) < GRAPH_REQUEST_LIMIT_BYTES
    assert SEND_LIMITS.message_in_one_request == MIME_SEND_LIMIT_BYTES
    assert SEND_LIMITS.attachment_in_one_request == ATTACHMENT_POST_LIMIT_BYTES


def test_the_paths_follow_the_providers_limits() -> None:
    small = SendLimits(
        message_in_one_request=10_000, attachment_in_one_request=500, largest_message=1
    )
    assert _choose_send_path(10_000, [], small) == "mime"
    assert _choose_send_path(10_001, [att(100)], small) == "upload_session"
    plan = _plan_draft(9_000, [att(100), att(400), att(600)], small)
    assert (plan.in_mime, plan.posted, plan.uploaded) == ((0,), (1,), (2,))


def test_mime_cost_covers_real_base64_lines() -> None:
    raw = bytes(range(256)) * 4000
    encoded = base64.encodebytes(raw)  # 76-char lines, like the email package
    assert mime_cost(len(raw)) >= len(encoded.replace(b"\n", b"\r\n"))


def test_small_message_goes_as_mime() -> None:
    assert choose_send_path(50_000, [att(30_000)]) == "mime"
    assert choose_send_path(MIME_SEND_LIMIT_BYTES, []) == "mime"


def test_large_message_goes_through_the_draft_and_upload_session() -> None:
    ten = att(10 * MB)
    assert choose_send_path(mime_cost(10 * MB) + 5_000, [ten]) == "upload_session"
    assert choose_send_path(MIME_SEND_LIMIT_BYTES + 1, [att(MB)]) == "upload_session"


def test_too_large_without_attachments_to_move_out() -> None:
    with pytest.raises(MessageTooLarge) as info:
        choose_send_path(MIME_SEND_LIMIT_BYTES + 1, [])
    assert info.value.hint


def test_plan_puts_small_files_in_the_mime_and_uploads_big_ones() -> None:
    files = [att(10 * MB, "big"), att(100_000, "small"), att(2_500_000, "mid"), att(50, "tiny")]
    plan = plan_draft(20_000, files)
    assert plan.in_mime == (1, 3)
    assert plan.posted == (2,)
    assert plan.uploaded == (0,)
    used = 20_000 + sum(mime_cost(files[i].size) for i in plan.in_mime)
    assert used <= MIME_SEND_LIMIT_BYTES


def test_plan_every_attachment_lands_exactly_once() -> None:
    files = [att(s) for s in (1, 900_000, 900_000, 900_000, 3 * MB, 2_900_000, 2_900_001)]
    plan = plan_draft(10_000, files)
    placed = sorted(plan.in_mime + plan.posted + plan.uploaded)
    assert placed == list(range(len(files)))
    assert 6 in plan.uploaded and 4 in plan.uploaded
    assert 5 in plan.posted
