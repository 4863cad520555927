"""Sending through the simulator: sendMail JSON and MIME, send-as, drafts, upload sessions."""

from __future__ import annotations

import base64
import os
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx

from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import assert_shape, graph

BOX = "users/support@contoso.com"
CONTROL = "/_sim/mailboxes/support@contoso.com"


def _message(**extra: Any) -> dict[str, Any]:
    return {
        "subject": "Re: Ticket #42 Größe",
        "body": {"contentType": "html", "content": "<p>We are on it.</p>"},
        "toRecipients": [{"emailAddress": {"address": "alice@example.org", "name": "Alice"}}],
        "ccRecipients": [{"emailAddress": {"address": "bob@example.org"}}],
        "bccRecipients": [{"emailAddress": {"address": "audit@contoso.com"}}],
        "internetMessageHeaders": [{"name": "X-Mailpipe-Record", "value": "42"}],
        **extra,
    }


def _sent(sim: SimHandle) -> list[dict[str, Any]]:
    with sim.control() as c:
        return list(c.get(f"{CONTROL}/sent").json())


def test_send_mail_json_is_recorded_and_saved(sim: SimHandle) -> None:
    with graph(sim) as g:
        r = g.post(f"{BOX}/sendMail", json={"message": _message(), "saveToSentItems": True})
        saved = g.get(f"{BOX}/mailFolders/sentitems/messages").json()["value"]
    assert r.status_code == 202
    assert r.content == b""
    [sent] = _sent(sim)
    assert sent["subject"] == "Re: Ticket #42 Größe"
    assert sent["to"] == ["alice@example.org"]
    assert sent["cc"] == ["bob@example.org"]
    assert sent["bcc"] == ["audit@contoso.com"]
    assert sent["headers"]["X-Mailpipe-Record"] == "42"
    assert sent["internet_message_id"].endswith("@contoso.com>")
    mime = message_from_bytes(base64.b64decode(sent["mime_base64"]), policy=policy.default)
    assert "support@contoso.com" in str(mime["From"])
    assert "Bcc" not in mime
    assert [m["subject"] for m in saved] == ["Re: Ticket #42 Größe"]
    assert_shape("microsoft.graph.message", saved[0])


def test_send_mail_mime_strips_auto_submitted(sim: SimHandle) -> None:
    msg = EmailMessage()
    msg["From"] = "support@contoso.com"
    msg["To"] = "alice@example.org"
    msg["Bcc"] = "hidden@example.org"
    msg["Subject"] = "MIME reply"
    msg["Message-ID"] = "<reply-1@mailpipe.contoso.com>"
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Loop"] = "mailpipe"
    msg.set_content("hello")
    with graph(sim) as g:
        r = g.post(
            f"{BOX}/sendMail",
            content=base64.b64encode(bytes(msg)),
            headers={"Content-Type": "text/plain"},
        )
        garbage = g.post(
            f"{BOX}/sendMail", content=b"!!not base64!!", headers={"Content-Type": "text/plain"}
        )
    assert r.status_code == 202
    [sent] = _sent(sim)
    assert sent["internet_message_id"] == "<reply-1@mailpipe.contoso.com>"
    assert sent["bcc"] == ["hidden@example.org"]
    assert "Auto-Submitted" not in sent["headers"]
    assert sent["headers"]["X-Loop"] == "mailpipe"
    assert garbage.status_code == 400


def test_send_as_is_denied_without_a_grant_and_allowed_with_one(sim: SimHandle) -> None:
    agent = {"emailAddress": {"address": "agent@contoso.com", "name": "Agent"}}
    with graph(sim) as g:
        denied = g.post(f"{BOX}/sendMail", json={"message": _message(**{"from": agent})})
        with sim.control() as c:
            c.put(f"{CONTROL}/send-as", json={"allowed": ["agent@contoso.com"]})
        allowed = g.post(f"{BOX}/sendMail", json={"message": _message(**{"from": agent})})
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "ErrorSendAsDenied"
    assert allowed.status_code == 202
    [sent] = _sent(sim)
    assert "agent@contoso.com" in sent["from"]
    assert "Sender" not in sent["headers"]  # send-as, not send-on-behalf


def test_invalid_requests_are_refused_like_graph(sim: SimHandle) -> None:
    with graph(sim) as g:
        no_rcpt = g.post(f"{BOX}/sendMail", json={"message": _message(toRecipients=[])})
        no_rcpt_at_all = g.post(
            f"{BOX}/sendMail",
            json={"message": _message(toRecipients=[], ccRecipients=[], bccRecipients=[])},
        )
        bad_header = g.post(
            f"{BOX}/sendMail",
            json={"message": _message(internetMessageHeaders=[{"name": "Foo", "value": "1"}])},
        )
        huge = g.post(
            f"{BOX}/sendMail",
            content=b"{" + b" " * (5 * 1024 * 1024) + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert no_rcpt.status_code == 202  # cc and bcc remain
    assert no_rcpt_at_all.json()["error"]["code"] == "ErrorInvalidRecipients"
    assert bad_header.json()["error"]["code"] == "InvalidInternetMessageHeader"
    assert huge.status_code == 413
    assert len(_sent(sim)) == 1


def test_a_10_mb_attachment_through_an_upload_session(sim: SimHandle) -> None:
    payload = os.urandom(10 * 1024 * 1024)
    chunk = 4 * 1024 * 1024
    with graph(sim) as g:
        draft = g.post(f"{BOX}/messages", json=_message(bccRecipients=[]))
        assert draft.status_code == 201
        assert draft.json()["isDraft"] is True
        draft_id = draft.json()["id"]
        session = g.post(
            f"{BOX}/messages/{draft_id}/attachments/createUploadSession",
            json={
                "AttachmentItem": {
                    "attachmentType": "file",
                    "name": "big.bin",
                    "size": len(payload),
                }
            },
        )
        assert session.status_code == 201
        assert_shape("microsoft.graph.uploadSession", session.json())
        url = session.json()["uploadUrl"]
        with httpx.Client(verify=sim.ssl_context(), timeout=60) as plain:
            with_auth = plain.put(
                url,
                content=payload[:chunk],
                headers={
                    "Content-Range": f"bytes 0-{chunk - 1}/{len(payload)}",
                    "Authorization": g.headers["Authorization"],
                },
            )
            statuses = []
            for start in range(0, len(payload), chunk):
                part = payload[start : start + chunk]
                r = plain.put(
                    url,
                    content=part,
                    headers={
                        "Content-Range": f"bytes {start}-{start + len(part) - 1}/{len(payload)}"
                    },
                )
                statuses.append(r.status_code)
        atts = g.get(f"{BOX}/messages/{draft_id}/attachments", params={"$select": "name,size"})
        sent = g.post(f"{BOX}/messages/{draft_id}/send")
        drafts = g.get(f"{BOX}/mailFolders/drafts/messages").json()["value"]
    assert with_auth.status_code == 401
    assert statuses == [200, 200, 201]
    assert atts.json()["value"][0]["size"] == len(payload)
    assert sent.status_code == 202
    assert drafts == []
    [record] = _sent(sim)
    mime = message_from_bytes(base64.b64decode(record["mime_base64"]), policy=policy.default)
    [attachment] = list(mime.iter_attachments())
    assert attachment.get_filename() == "big.bin"
    assert attachment.get_content() == payload
