"""The Gmail adapter sending through the simulator: threads, the resumable upload, the
three ways of sending as an agent (a verified alias, impersonation, refused), and find_sent
after a lost answer, asked of Gmail by an adapter that did not send (a restarted sender)."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest

from libs.common.mail import OutcomeUnknown, OutgoingAttachment, SendAsDenied
from libs.gmailsim.testing import GmailSimHandle
from tests.gmailsim_helpers import mail, seed

from .gmail_adapter_helpers import AGENT, BOX, calls, control, faults, gmail_box, sent, stats

pytestmark = pytest.mark.timeout(120)


def unb64url(text: str) -> bytes:
    """The simulator's base64url, which (as Gmail's) may come without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def outgoing(sender: str = BOX, *, subject: str = "Answer", reply_to: str = "") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "ann@outside.test", subject
    msg["Message-ID"] = make_msgid(domain="mailpipe.example.com")
    msg["Date"] = formatdate()  # else Gmail adds one and the bytes differ
    if reply_to:
        msg["In-Reply-To"] = msg["References"] = reply_to
    msg.set_content("We are on it.\n")
    return msg


def test_a_reply_joins_the_thread_it_answers(gsim: GmailSimHandle) -> None:
    inbound = seed(gsim, BOX, mail("Printer", msgid="<q1@outside.test>"))
    reply = outgoing(subject="Re: Printer", reply_to="<q1@outside.test>")
    with gmail_box(gsim) as box:
        result = box.send_mime(reply.as_bytes())
        assert box.find_sent(str(reply["Message-ID"])) is True
    assert result.internet_message_id == reply["Message-ID"]
    (out,) = sent(gsim)
    assert out["thread_id"] == inbound["threadId"]
    assert out["internet_message_id"] == reply["Message-ID"]


def test_a_large_message_goes_by_the_resumable_upload(gsim: GmailSimHandle) -> None:
    msg = outgoing(subject="Logs")
    msg.add_attachment(b"\x00" * (6 * 1024 * 1024), maintype="application", subtype="zip")
    raw = msg.as_bytes()
    with gmail_box(gsim) as box:
        assert len(raw) > box.send_limits.message_in_one_request
        box.send_mime(raw)
    (out,) = sent(gsim)
    assert unb64url(out["mime_base64"]) == raw
    assert calls(gsim, "POST upload/users/{u}/messages/send") == 1
    assert len(raw) > 8 * 1024 * 1024  # in two chunks of at most 8 MiB
    assert calls(gsim, "PUT upload/users/{u}/messages/send") == 2
    assert calls(gsim, "POST users/{u}/messages/send") == 0


def test_attachments_given_apart_go_into_the_message(gsim: GmailSimHandle) -> None:
    msg = outgoing(subject="Report")
    extra = [OutgoingAttachment("report.pdf", b"%PDF-1.4 ...", "application/pdf")]
    with gmail_box(gsim) as box:
        box.send_mime_draft(msg.as_bytes(), extra)
    (out,) = sent(gsim)
    mime = unb64url(out["mime_base64"])
    assert b'filename="report.pdf"' in mime and b"Subject: Report" in mime


def test_an_agent_is_impersonated_and_their_sent_gets_the_copy(gsim: GmailSimHandle) -> None:
    msg = outgoing(AGENT)
    with gmail_box(gsim) as box:
        box.send_mime(msg.as_bytes())
        assert box.find_sent(str(msg["Message-ID"]), sender=AGENT) is True
    (out,) = sent(gsim, AGENT)
    assert (out["from"], out["from_rewritten"]) == (AGENT, False)
    assert sent(gsim, BOX) == []


def test_an_agent_outside_the_workspace_is_send_as_denied(gsim: GmailSimHandle) -> None:
    with gmail_box(gsim) as box, pytest.raises(SendAsDenied) as denied:
        # a reply: the thread is looked up as the agent too, and refused the same way
        box.send_mime(outgoing("stranger@example.com", reply_to="<q@outside.test>").as_bytes())
    assert not denied.value.retryable
    assert denied.value.hint and "Domain-wide delegation" in denied.value.hint
    assert "Send mail as" in denied.value.hint


def test_a_verified_alias_sends_from_the_helpdesk_mailbox(gsim: GmailSimHandle) -> None:
    alias, pending = "team@example.com", "team@other.test"
    control(
        gsim,
        "PUT",
        f"/_sim/mailboxes/{BOX}/send-as",
        json={"allowed": [alias], "pending": [pending]},
    )
    with gmail_box(gsim, google_send_as="alias") as box:
        box.send_mime(outgoing(alias).as_bytes())
        with pytest.raises(SendAsDenied) as denied:
            box.send_mime(outgoing(pending).as_bytes())
    assert denied.value.hint and "Send mail as" in denied.value.hint
    (out,) = sent(gsim, BOX)
    assert (out["from"], out["from_rewritten"]) == (alias, False)


def test_an_agents_send_is_found_in_their_sent_by_a_restarted_adapter(
    gsim: GmailSimHandle,
) -> None:
    msg = outgoing(f"Agent <{AGENT}>")
    mid = str(msg["Message-ID"])
    faults(gsim, lose_send_responses=1)
    with gmail_box(gsim) as box, pytest.raises(OutcomeUnknown):
        box.send_mime(msg.as_bytes())  # out, but the answer is lost
    with gmail_box(gsim) as restarted:  # remembers nothing of the send
        assert restarted.find_sent(mid, sender=f"Agent <{AGENT}>") is True
        assert restarted.find_sent(mid, sender=AGENT.upper()) is True
        assert restarted.find_sent("<unknown@mailpipe.example.com>", sender=AGENT) is False
        assert restarted.find_sent(mid) is False, "the copy is in the agent's Sent, not ours"
        assert restarted.find_sent(mid, sender=BOX) is False
    assert [s["internet_message_id"] for s in sent(gsim, AGENT)] == [mid]
    assert sent(gsim, BOX) == []


def test_find_sent_looks_in_the_mailbox_for_a_fallback_and_an_alias(gsim: GmailSimHandle) -> None:
    # A send as an agent refused (no such user) falls back to the mailbox: its copy is ours.
    fallback = outgoing()
    with gmail_box(gsim) as box:
        box.send_mime(fallback.as_bytes())
    with gmail_box(gsim) as restarted:
        assert restarted.find_sent(str(fallback["Message-ID"]), sender=AGENT) is True
        # An agent the mailbox may not act as holds nothing of ours: no, not an error.
        assert restarted.find_sent("<x@mailpipe.example.com>", sender="stranger@example.com") is (
            False
        )
    alias = "team@example.com"
    control(gsim, "PUT", f"/_sim/mailboxes/{BOX}/send-as", json={"allowed": [alias]})
    as_alias = outgoing(alias)
    with gmail_box(gsim, google_send_as="alias") as box:
        box.send_mime(as_alias.as_bytes())
    tokens_before = stats(gsim)["token_requests"]
    with gmail_box(gsim, google_send_as="alias") as restarted:
        assert restarted.find_sent(str(as_alias["Message-ID"]), sender=alias) is True
        assert restarted.find_sent("<y@mailpipe.example.com>", sender=alias) is False
    assert stats(gsim)["token_requests"] == tokens_before + 1, "the mailbox's token alone"
