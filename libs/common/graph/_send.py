"""Sending: sendMail as JSON or MIME, and draft + upload sessions for large attachments.

Graph caps a request near 4 MB. A message whose JSON (attachments base64-encoded) fits under
:data:`INLINE_LIMIT` goes out in one sendMail; a bigger one becomes a draft, each attachment
is added on its own (over :data:`ATTACHMENT_INLINE_LIMIT` through an upload session in
chunks, with no Authorization header on the upload URL, as Graph requires) and the draft is
sent.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from libs.common.graph._http import GraphHttp
from libs.common.graph.errors import GraphError, GraphOutcomeUnknown
from libs.common.graph.models import OutgoingAttachment, SendResult
from libs.common.mail.models import SendLimits

log = logging.getLogger("mailpipe.graph")

#: Largest sendMail JSON body we send in one request (Graph's cap is ~4 MB).
INLINE_LIMIT = 3_500_000
#: Largest attachment (raw bytes) added to a draft as JSON rather than an upload session.
ATTACHMENT_INLINE_LIMIT = 2_500_000
#: Upload chunk: a multiple of 320 KiB, as Graph asks, and below the 4 MB chunk limit.
CHUNK_SIZE = 320 * 1024 * 12

# What a sender plans a MIME message's path by (the port's SendLimits).
#
# Graph caps a request near 4 MB (we count 4,000,000 bytes, the smaller reading of "4 MB").
# A MIME sendMail body is the message base64-encoded, 4 bytes for every 3, so the raw MIME
# may be at most 3,000,000 bytes; MIME_SEND_LIMIT_BYTES keeps a margin below that
# (2,900,000 raw → 3,866,668 on the wire). Inside the MIME an attachment is itself base64 in
# 76-character lines (78 bytes with CRLF per 57 raw bytes, x1.37), so through sendMail an
# attachment costs x1.82 on the wire: about 1.5 MB of files fit in one MIME send.
#
# Anything bigger becomes a draft: the draft is created from MIME holding the bodies and the
# attachments that fit, the others are added one by one — up to ATTACHMENT_POST_LIMIT_BYTES
# as one JSON POST (base64 again, the same arithmetic), larger ones through an upload
# session (3 to 150 MB, chunks ≤ 4 MB) — and the draft is sent.
GRAPH_REQUEST_LIMIT_BYTES = 4_000_000
#: Largest raw MIME sent in one sendMail (base64 of it stays below the request cap).
MIME_SEND_LIMIT_BYTES = 2_900_000
#: Largest attachment added to a draft as one JSON POST; larger ones use an upload session.
ATTACHMENT_POST_LIMIT_BYTES = 2_900_000
#: Exchange Online's largest message (encoded); a mailbox's MaxSendSize is often 35 MB.
MAX_MESSAGE_BYTES = 150 * 1024 * 1024
SEND_LIMITS = SendLimits(
    message_in_one_request=MIME_SEND_LIMIT_BYTES,
    attachment_in_one_request=ATTACHMENT_POST_LIMIT_BYTES,
    largest_message=MAX_MESSAGE_BYTES,
)


def file_attachment(att: OutgoingAttachment) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": att.name,
        "contentType": att.content_type,
        "contentBytes": base64.b64encode(att.content).decode("ascii"),
        "isInline": att.is_inline,
    }
    if att.content_id:
        data["contentId"] = att.content_id
    return data


def send_mail(
    http: GraphHttp,
    user: str,
    message: Mapping[str, Any],
    attachments: Sequence[OutgoingAttachment],
    save_to_sent_items: bool,
) -> SendResult:
    full = dict(message)
    if attachments:
        full["attachments"] = [file_attachment(a) for a in attachments]
    body = {"message": full, "saveToSentItems": save_to_sent_items}
    encoded = json.dumps(body).encode()
    if len(encoded) > INLINE_LIMIT:
        return send_via_draft(http, user, message, attachments)
    response = http.request(
        "POST",
        f"{user}/sendMail",
        what="sendMail",
        content=encoded,
        headers={"Content-Type": "application/json"},
        idempotent=False,
    )
    return SendResult(response.headers.get("request-id"))


def send_mime(http: GraphHttp, user: str, mime: bytes) -> SendResult:
    response = http.request(
        "POST",
        f"{user}/sendMail",
        what="sendMail (MIME)",
        content=base64.b64encode(mime),
        headers={"Content-Type": "text/plain"},
        idempotent=False,
    )
    return SendResult(response.headers.get("request-id"))


def send_via_draft(
    http: GraphHttp,
    user: str,
    message: Mapping[str, Any],
    attachments: Sequence[OutgoingAttachment],
) -> SendResult:
    """Draft, attachments one by one, send. A failed draft is deleted, so none lingers."""
    draft = http.request(
        "POST", f"{user}/messages", what="create draft", json=dict(message), idempotent=False
    ).json()
    return _complete_draft(http, user, draft, attachments)


def send_mime_via_draft(
    http: GraphHttp,
    user: str,
    mime: bytes,
    attachments: Sequence[OutgoingAttachment],
    *,
    attachment_post_limit: int = ATTACHMENT_INLINE_LIMIT,
) -> SendResult:
    """A draft created FROM MIME, so our Message-ID, In-Reply-To, References and X- headers
    survive; then ``attachments`` one by one (upload sessions for the large ones); then send.

    Graph keeps a draft's sent copy in Sent Items: the draft path has no ``saveToSentItems``.
    """
    draft = http.request(
        "POST",
        f"{user}/messages",
        what="create draft (MIME)",
        content=base64.b64encode(mime),
        headers={"Content-Type": "text/plain"},
        idempotent=False,
    ).json()
    return _complete_draft(http, user, draft, attachments, attachment_post_limit)


def _complete_draft(
    http: GraphHttp,
    user: str,
    draft: Mapping[str, Any],
    attachments: Sequence[OutgoingAttachment],
    post_limit: int = ATTACHMENT_INLINE_LIMIT,
) -> SendResult:
    draft_id = str(draft["id"])
    try:
        _add_attachments(http, user, draft_id, attachments, post_limit)
    except GraphError:
        _discard_draft(http, user, draft_id)
        raise
    return SendResult(
        _send_draft(http, user, draft_id),
        draft_id=draft_id,
        internet_message_id=draft.get("internetMessageId"),
    )


def _add_attachments(
    http: GraphHttp,
    user: str,
    draft_id: str,
    attachments: Sequence[OutgoingAttachment],
    post_limit: int,
) -> None:
    """Each attachment on its own: posted as JSON up to ``post_limit`` bytes, uploaded in a
    session above."""
    for att in attachments:
        if len(att.content) <= post_limit:
            http.request(
                "POST",
                f"{user}/messages/{quote(draft_id, safe='')}/attachments",
                what="add attachment",
                json=file_attachment(att),
                idempotent=False,
            )
        else:
            upload_attachment(http, user, draft_id, att)


def _send_draft(http: GraphHttp, user: str, draft_id: str) -> str | None:
    """Send the draft; its request id. A draft that certainly was not sent is deleted."""
    try:
        response = http.request(
            "POST",
            f"{user}/messages/{quote(draft_id, safe='')}/send",
            what="send draft",
            idempotent=False,
        )
    except GraphOutcomeUnknown:
        # It may be on its way: deleting the draft now could delete the message being sent
        # (or its Sent Items copy). An unsent draft left behind is the lesser harm.
        log.warning("draft %s of %s: send outcome unknown; draft kept", draft_id, user)
        raise
    except GraphError:
        _discard_draft(http, user, draft_id)
        raise
    return response.headers.get("request-id")


def upload_attachment(http: GraphHttp, user: str, draft_id: str, att: OutgoingAttachment) -> None:
    item: dict[str, Any] = {
        "attachmentType": "file",
        "name": att.name,
        "size": len(att.content),
        "contentType": att.content_type,
        "isInline": att.is_inline,
    }
    if att.content_id:
        item["contentId"] = att.content_id
    session = http.request(
        "POST",
        f"{user}/messages/{quote(draft_id, safe='')}/attachments/createUploadSession",
        what="createUploadSession",
        json={"AttachmentItem": item},
        idempotent=False,
    ).json()
    upload_url = str(session["uploadUrl"])
    total = len(att.content)
    for start in range(0, total, CHUNK_SIZE):
        chunk = att.content[start : start + CHUNK_SIZE]
        end = start + len(chunk) - 1
        # The upload URL carries its own credential; an Authorization header is refused.
        http.request(
            "PUT",
            upload_url,
            what="upload attachment chunk",
            content=chunk,
            headers={
                "Content-Range": f"bytes {start}-{end}/{total}",
                "Content-Type": "application/octet-stream",
            },
            auth=False,
        )


def _discard_draft(http: GraphHttp, user: str, draft_id: str) -> None:
    try:
        http.request("DELETE", f"{user}/messages/{quote(draft_id, safe='')}", what="delete draft")
    except GraphError as exc:
        log.warning("could not delete unsent draft %s of %s: %s", draft_id, user, exc.code)


def find_sent(get_json: Callable[..., dict[str, Any]], user: str, internet_message_id: str) -> bool:
    """Whether Sent Items holds a message with this Internet Message-ID (``<id@host>``).

    Graph files the sent copy there (a MIME or draft send always; JSON only with
    saveToSentItems). The copy can take a moment to appear, so "no" is only as good as that
    moment.
    """
    literal = internet_message_id.replace("'", "''")  # OData string literal
    page = get_json(
        f"{user}/mailFolders/sentitems/messages",
        what="find sent message",
        params={"$filter": f"internetMessageId eq '{literal}'", "$select": "id", "$top": "1"},
    )
    return bool(page.get("value"))
