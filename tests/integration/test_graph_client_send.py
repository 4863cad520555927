"""Sending through the simulator: JSON, MIME, send-as allowed and denied, a 10 MB attachment."""

from __future__ import annotations

import base64
import email
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from libs.common.graph import GraphPermanentError, OutgoingAttachment
from libs.graphsim.testing import SimHandle

from .graph_client_helpers import BOX, control_json, counts, mail_for, stats

AGENT = "agent.smith@contoso.com"


def message(subject: str, sender: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "subject": subject,
        "body": {"contentType": "text", "content": "Wir kümmern uns darum.\n"},
        "toRecipients": [{"emailAddress": {"address": "ann@fabrikam.com", "name": "Ann"}}],
        "ccRecipients": [{"emailAddress": {"address": "lead@fabrikam.com"}}],
        "bccRecipients": [{"emailAddress": {"address": "audit@contoso.com"}}],
        "internetMessageHeaders": [{"name": "x-mailpipe-record", "value": "R-42"}],
    }
    if sender:
        data["from"] = {"emailAddress": {"address": sender}}
    return data


def sent(sim: SimHandle) -> list[dict[str, Any]]:
    return list(control_json(sim, "GET", f"/_sim/mailboxes/{BOX}/sent"))


def test_send_mail_json(sim: SimHandle) -> None:
    with mail_for(sim) as mail:
        result = mail.send_mail(
            message("Re: Drucker \u2013 Ticket #42"),
            [OutgoingAttachment("notiz.txt", "Grüße".encode(), "text/plain")],
        )
    assert result.request_id
    (out,) = sent(sim)
    assert out["subject"] == "Re: Drucker \u2013 Ticket #42"
    assert out["from"] == BOX
    assert out["to"] == ["ann@fabrikam.com"] and out["cc"] == ["lead@fabrikam.com"]
    assert out["bcc"] == ["audit@contoso.com"]
    parsed = email.message_from_bytes(base64.b64decode(out["mime_base64"]), policy=policy.default)
    assert parsed["x-mailpipe-record"] == "R-42"
    (att,) = parsed.iter_attachments()
    assert att.get_filename() == "notiz.txt"
    assert att.get_payload(decode=True) == "Grüße".encode()
    assert counts(sim)["folders"]["sentitems"] == 1


def test_send_mail_without_saving_to_sent_items(sim: SimHandle) -> None:
    with mail_for(sim) as mail:
        mail.send_mail(message("Quiet"), save_to_sent_items=False)
    assert [s["subject"] for s in sent(sim)] == ["Quiet"]
    assert counts(sim)["folders"]["sentitems"] == 0


def test_send_mime(sim: SimHandle) -> None:
    msg = EmailMessage()
    msg["From"] = BOX
    msg["To"] = "ann@fabrikam.com"
    msg["Subject"] = "Ihr Ticket T-7 \u2013 erledigt ✓"
    msg["Message-ID"] = "<t7.1@mailpipe.contoso.com>"
    msg["X-Mailpipe-Job"] = "job-7"
    msg.set_content("Erledigt.\n")
    with mail_for(sim) as mail:
        assert mail.send_mime(msg.as_bytes()).request_id
    (out,) = sent(sim)
    assert out["subject"] == "Ihr Ticket T-7 \u2013 erledigt ✓"
    assert out["internet_message_id"] == "<t7.1@mailpipe.contoso.com>"
    assert out["to"] == ["ann@fabrikam.com"]
    parsed = email.message_from_bytes(base64.b64decode(out["mime_base64"]), policy=policy.default)
    assert parsed["X-Mailpipe-Job"] == "job-7"


def test_send_as_allowed(sim: SimHandle) -> None:
    control_json(sim, "PUT", f"/_sim/mailboxes/{BOX}/send-as", json={"allowed": [AGENT]})
    with mail_for(sim) as mail:
        mail.send_mail(message("From the agent", AGENT))
    (out,) = sent(sim)
    assert out["from"] == AGENT and out["subject"] == "From the agent"


def test_send_as_denied_is_a_typed_error_with_the_delegation_hint(sim: SimHandle) -> None:
    with mail_for(sim) as mail, pytest.raises(GraphPermanentError) as info:
        mail.send_mail(message("Not allowed", AGENT))
    err = info.value
    assert err.status == 403 and err.code == "ErrorSendAsDenied" and not err.retryable
    assert err.hint is not None and "Send As" in err.hint
    assert err.request_id
    assert sent(sim) == []


def test_ten_megabyte_attachment_goes_through_an_upload_session(sim: SimHandle) -> None:
    big = bytes(range(251)) * (10 * 1024 * 1024 // 251)
    small = b"small attachment"
    with mail_for(sim) as mail:
        result = mail.send_mail(
            message("Logs attached"),
            [
                OutgoingAttachment("logs.bin", big, "application/octet-stream"),
                OutgoingAttachment("readme.txt", small, "text/plain"),
            ],
        )
    assert result.draft_id and result.request_id
    (out,) = sent(sim)
    assert out["subject"] == "Logs attached"
    parsed = email.message_from_bytes(base64.b64decode(out["mime_base64"]), policy=policy.default)
    files = {p.get_filename(): p.get_payload(decode=True) for p in parsed.iter_attachments()}
    assert files["logs.bin"] == big
    assert files["readme.txt"] == small
    requests = stats(sim)["requests"]
    assert requests["POST users/{u}/messages/{m}/attachments/createUploadSession"] == {"201": 1}
    assert counts(sim)["folders"]["drafts"] == 0
