"""GraphMail's sending: a Graph message or MIME, a draft for what is too big for one request,
and the look into Sent Items after a send whose answer was lost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from libs.common.graph import _send
from libs.common.graph._mailbox_base import MailboxBase
from libs.common.graph.models import OutgoingAttachment, SendResult


class MailSending(MailboxBase):
    """Sends as one mailbox (or as another address, through the message's ``from``)."""

    def send_mail(
        self,
        message: Mapping[str, Any],
        attachments: Sequence[OutgoingAttachment] = (),
        *,
        save_to_sent_items: bool = True,
    ) -> SendResult:
        """Send a Graph ``message`` (set ``from`` to send as an agent); large attachments go
        through a draft and upload sessions."""
        return _send.send_mail(self._http, self._user, message, attachments, save_to_sent_items)

    def send_mime(self, mime: bytes) -> SendResult:
        """Send an RFC 822 message as is (Graph saves it to Sent Items)."""
        return _send.send_mime(self._http, self._user, mime)

    def send_mime_draft(
        self,
        mime: bytes,
        attachments: Sequence[OutgoingAttachment] = (),
        *,
        attachment_post_limit: int = _send.ATTACHMENT_INLINE_LIMIT,
    ) -> SendResult:
        """Send a message too big for one request: a draft created from ``mime`` (headers
        kept), ``attachments`` added to it (upload sessions above ``attachment_post_limit``
        bytes), then sent. Graph saves it to Sent Items."""
        return _send.send_mime_via_draft(
            self._http, self._user, mime, attachments, attachment_post_limit=attachment_post_limit
        )

    def find_sent(self, internet_message_id: str, *, sender: str | None = None) -> bool:
        """Whether Sent Items holds a message with this Internet Message-ID (``<id@host>``):
        how a sender finds out whether a send whose answer was lost went out. ``sender`` is
        not needed: a message sent as an agent (Send As) is filed in this mailbox's Sent
        Items too, since it is this mailbox's sendMail that sends it."""
        return _send.find_sent(self._get_json, self._user, internet_message_id)
