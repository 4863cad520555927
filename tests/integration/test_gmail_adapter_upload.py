"""The Gmail adapter's resumable upload against the simulator: 8 MiB chunks up to Gmail's
35 MB, a larger message refused before any request, a broken chunk resumed from what Gmail
kept, a lost last answer asked of the session rather than sent again, and an expired session
started over once."""

from __future__ import annotations

import pytest

from libs.common.gmail._upload import CHUNK, LARGEST
from libs.common.mail import MailUnavailable, TooLarge
from libs.gmailsim.testing import GmailSimHandle

from .gmail_adapter_helpers import calls, faults, gmail_box, sent, stats
from .test_gmail_adapter_send import outgoing, unb64url

pytestmark = pytest.mark.timeout(180)
PUT = "PUT upload/users/{u}/messages/send"
OPEN = "POST upload/users/{u}/messages/send"


def message(size: int) -> bytes:
    """A message of about ``size`` bytes: its attachment, base64 in 76-character lines,
    grows by 77/57."""
    msg = outgoing(subject="Large")
    msg.add_attachment(b"\x01" * (size * 57 // 77), maintype="application", subtype="zip")
    return msg.as_bytes()


def puts(sim: GmailSimHandle) -> dict[str, int]:
    """The upload session's PUTs by status."""
    return dict(stats(sim)["requests"].get(PUT, {}))


def test_a_34_mb_message_goes_in_8_mib_chunks(gsim: GmailSimHandle) -> None:
    raw = message(34_000_000)
    assert 33_500_000 < len(raw) < LARGEST
    with gmail_box(gsim) as box:
        box.send_mime(raw)
    (out,) = sent(gsim)
    stored = unb64url(out["mime_base64"])
    assert len(stored) == len(raw) and stored == raw
    assert -(-len(raw) // CHUNK) == 5
    assert puts(gsim) == {"308": 4, "200": 1}
    assert calls(gsim, OPEN) == 1


def test_a_message_over_35_mb_is_refused_before_any_request(gsim: GmailSimHandle) -> None:
    raw = message(LARGEST + 200_000)
    assert len(raw) > LARGEST
    with gmail_box(gsim) as box, pytest.raises(TooLarge) as refused:
        box.send_mime(raw)
    assert not refused.value.retryable and refused.value.code == "too_large"
    assert refused.value.hint and "35 MB" in refused.value.hint
    assert stats(gsim)["http_requests"] == 0
    assert sent(gsim) == []


def test_a_broken_chunk_is_resumed_from_what_gmail_kept(gsim: GmailSimHandle) -> None:
    raw = message(12_000_000)
    faults(gsim, break_upload_chunks=1)
    with gmail_box(gsim) as box:
        box.send_mime(raw)
    (out,) = sent(gsim)
    assert unb64url(out["mime_base64"]) == raw
    # the first chunk broke half-way (503), the status query said 4 MiB were kept (308), and
    # the rest went in one chunk
    assert puts(gsim) == {"503": 1, "308": 1, "200": 1}
    assert calls(gsim, OPEN) == 1


def test_a_lost_answer_to_the_last_chunk_is_asked_not_sent_again(gsim: GmailSimHandle) -> None:
    raw = message(6_000_000)
    faults(gsim, lose_send_responses=1)
    with gmail_box(gsim) as box:
        box.send_mime(raw)
    assert len(sent(gsim)) == 1
    assert puts(gsim) == {"500": 1, "200": 1}  # the chunk, then the status query: done


def test_an_expired_session_is_started_over_once(gsim: GmailSimHandle) -> None:
    raw = message(12_000_000)
    faults(gsim, expire_upload_sessions=1)
    with gmail_box(gsim) as box:
        box.send_mime(raw)
    (out,) = sent(gsim)
    assert unb64url(out["mime_base64"]) == raw
    assert calls(gsim, OPEN) == 2
    assert puts(gsim) == {"404": 1, "308": 1, "200": 1}


def test_a_session_expiring_twice_is_retryable_and_sends_nothing(gsim: GmailSimHandle) -> None:
    faults(gsim, expire_upload_sessions=2)
    with gmail_box(gsim) as box, pytest.raises(MailUnavailable) as failed:
        box.send_mime(message(6_000_000))
    assert failed.value.retryable and failed.value.code == "upload_expired"
    assert sent(gsim) == []
    assert calls(gsim, OPEN) == 2
