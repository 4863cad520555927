"""``GraphMail.send_mime_draft`` against the simulator: a draft created from MIME keeps our
headers and attachments, takes posted and uploaded ones, is sent, and never lingers."""

from __future__ import annotations

import base64
import os
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from libs.common.graph import GraphPermanentError, OutgoingAttachment
from libs.graphsim.testing import SimHandle
from tests.integration.graph_client_helpers import BOX, control_json, counts, mail_for, stats


def mime(sender: str = BOX) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "ann@fabrikam.com"
    msg["Subject"] = "Re: [#7] Printer"
    msg["Message-ID"] = "<0123abcd@mailpipe.contoso.com>"
    msg["In-Reply-To"] = "<q2@fabrikam.com>"
    msg["References"] = "<q1@fabrikam.com> <q2@fabrikam.com>"
    msg["X-Mailpipe-Job-Id"] = "job-7"
    msg.set_content("Fixed.")
    msg.add_attachment(b"in the mime", "text", "plain", filename="inside.txt")
    return msg.as_bytes()


def test_a_mime_draft_keeps_its_headers_and_gets_every_attachment(sim: SimHandle) -> None:
    posted = OutgoingAttachment("posted.bin", os.urandom(50_000))
    uploaded = OutgoingAttachment("uploaded.bin", os.urandom(4_500_000))
    with mail_for(sim) as mail:
        result = mail.send_mime_draft(mime(), [posted, uploaded], attachment_post_limit=100_000)
    assert result.request_id and result.draft_id
    assert result.internet_message_id == "<0123abcd@mailpipe.contoso.com>"
    (out,) = control_json(sim, "GET", f"/_sim/mailboxes/{BOX}/sent")
    msg = BytesParser(policy=policy.default).parsebytes(base64.b64decode(out["mime_base64"]))
    assert msg["Message-ID"] == "<0123abcd@mailpipe.contoso.com>"
    assert msg["In-Reply-To"] == "<q2@fabrikam.com>"
    assert msg["References"] == "<q1@fabrikam.com> <q2@fabrikam.com>"
    assert msg["X-Mailpipe-Job-Id"] == "job-7"
    assert isinstance(msg, EmailMessage)
    files = {p.get_filename(): p.get_payload(decode=True) for p in msg.iter_attachments()}
    assert files == {
        "inside.txt": b"in the mime",
        "posted.bin": posted.content,
        "uploaded.bin": uploaded.content,
    }
    requests = stats(sim)["requests"]
    assert any("createUploadSession" in route for route in requests), requests
    folders = counts(sim)["folders"]
    assert folders["drafts"] == 0 and folders["sentitems"] == 1


def test_a_refused_mime_draft_is_deleted(sim: SimHandle) -> None:
    with mail_for(sim) as mail, pytest.raises(GraphPermanentError) as refused:
        mail.send_mime_draft(mime(sender="agent@contoso.com"))
    assert refused.value.code == "ErrorSendAsDenied"
    assert counts(sim)["folders"]["drafts"] == 0
    assert control_json(sim, "GET", f"/_sim/mailboxes/{BOX}/sent") == []
