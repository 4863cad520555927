"""GmailMail's sending: ``messages.send`` with the raw MIME (and the thread's id when it
answers a message Gmail knows), the resumable upload for large messages (``_upload``), and
send-as: a verified alias of this mailbox, or the agent's own mailbox by impersonation. After a lost
answer, ``find_sent`` asks Gmail (the Sent of whoever sent), never this process's memory."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from email.message import Message
from email.utils import getaddresses

from libs.common.gmail import _convert
from libs.common.gmail._auth import MODIFY, SEND
from libs.common.gmail._base import ME, GmailBase
from libs.common.gmail._errors import send_as_denied
from libs.common.gmail._http import GmailHttp
from libs.common.gmail._upload import LARGEST, too_large, upload
from libs.common.mail.errors import MailAuthError, SendAsDenied
from libs.common.mail.models import OutgoingAttachment, SendLimits, SendResult

#: Raw bytes sent in one JSON request (base64 grows them by a third); larger messages go
#: through the resumable upload, up to Gmail's 35 MB.
ONE_REQUEST = 5 * 1024 * 1024
SEND_LIMITS = SendLimits(
    message_in_one_request=ONE_REQUEST,
    attachment_in_one_request=ONE_REQUEST,
    largest_message=LARGEST,
)
ALIASES_FOR_S = 300.0

log = logging.getLogger("mailpipe.gmail")


class GmailSending(GmailBase):
    """Sends as this mailbox, an alias of it, or (impersonated) an agent of the domain."""

    send_limits = SEND_LIMITS

    def _sending_init(self) -> None:
        self._agents: dict[str, GmailHttp] = {}
        self._aliases: tuple[float, frozenset[str]] = (0.0, frozenset())
        self._send_lock = threading.Lock()

    def send_mime(self, mime: bytes) -> SendResult:
        if len(mime) > LARGEST:
            raise too_large(len(mime))  # before any request: Gmail would refuse it anyway
        head = _convert.headers_of(mime)
        http = self._sender(head.get("From", ""))
        mid = str(head.get("Message-ID") or "").strip() or None
        try:
            self._send(http, mime, self._thread_of(http, head))
        except MailAuthError as exc:
            if http is self._http:
                raise
            raise send_as_denied(exc, http.user) from None  # the agent's grant, not ours
        return SendResult(request_id=None, internet_message_id=mid)

    def _send(self, http: GmailHttp, mime: bytes, thread: str | None) -> None:
        meta = {"threadId": thread} if thread else {}
        if len(mime) > ONE_REQUEST:
            upload(http, mime, meta)
            return
        body = {"raw": _convert.b64url_encode(mime), **meta}
        path = f"{ME}/messages/send"
        http.request("POST", path, what="messages.send", json=body, idempotent=False)

    def send_mime_draft(
        self,
        mime: bytes,
        attachments: Sequence[OutgoingAttachment] = (),
        *,
        attachment_post_limit: int = ONE_REQUEST,
    ) -> SendResult:
        """Gmail has no draft to add attachments to later: they go into the MIME, and the
        message through the resumable upload when large."""
        return self.send_mime(_convert.with_attachments(mime, list(attachments)))

    def find_sent(self, internet_message_id: str, *, sender: str | None = None) -> bool:
        """Whether this mailbox's Sent holds a message with this Message-ID, or, when
        ``sender`` (the From it was built with) is an agent this mailbox impersonates, the
        agent's Sent. This mailbox is asked too: a send-as refusal falls back to it."""
        query = f"in:sent rfc822msgid:{internet_message_id.strip().strip('<>')}"
        if _holds(self._http, query):
            return True
        agent = self._impersonated(sender or "")
        if agent is None:
            return False
        try:
            return _holds(self._agent(agent), query)
        except MailAuthError as exc:
            # Not allowed to act as the agent: a send as them is refused as well (the retry
            # falls back to this mailbox, asked above, or fails). Missed: a grant taken back
            # between a send and this look.
            log.warning("gmail cannot look in %s's Sent: %s", agent, exc.code)
            return False

    def _impersonated(self, from_header: str) -> str | None:
        """The agent whose own mailbox sends a message with this From, or None when this
        mailbox sends it (its own address, or any address in alias mode)."""
        address = _address_of(from_header)
        if not address or address == self.address or self._box.google_send_as == "alias":
            return None
        return address

    def _sender(self, from_header: str) -> GmailHttp:
        """Who sends: this mailbox, for its own address or a verified alias; else the agent
        impersonated (or, in alias mode, :class:`SendAsDenied`)."""
        address = _address_of(from_header)
        if not address or address == self.address:
            return self._http
        if self._box.google_send_as == "alias":
            if address in self._verified_aliases():
                return self._http
            raise SendAsDenied(
                f"gmail mailbox {self.address} has no verified alias {address}",
                code="send_as_denied",
                hint="add it in Gmail → Settings → Accounts → Send mail as (and verify it)",
            )
        return self._agent(address)

    def _agent(self, address: str) -> GmailHttp:
        with self._send_lock:
            if address not in self._agents:
                # Reading too: the thread to answer in, and find_sent after a lost answer.
                self._agents[address] = self._http_for(address, [MODIFY, SEND])
            return self._agents[address]

    def _verified_aliases(self) -> frozenset[str]:
        read_at, aliases = self._aliases
        if time.monotonic() - read_at < ALIASES_FOR_S:
            return aliases
        data = self._get("/settings/sendAs", what="sendAs.list")
        aliases = frozenset(
            str(a["sendAsEmail"]).lower()
            for a in data.get("sendAs", [])
            if a.get("isPrimary") or a.get("verificationStatus") == "accepted"
        )
        self._aliases = (time.monotonic(), aliases)
        return aliases

    def _thread_of(self, http: GmailHttp, head: Message) -> str | None:
        """The thread of the message this one answers, when the sending mailbox has it
        (the newest reference first)."""
        refs = f"{head.get('References', '')} {head.get('In-Reply-To', '')}"
        for ref in reversed(refs.split()):
            found = http.request(
                "GET",
                f"{ME}/messages",
                what="messages.list",
                # the trash too: the mail answered is often processed (trashed) by then
                params={
                    "q": f"rfc822msgid:{ref.strip('<>')}",
                    "maxResults": "1",
                    "includeSpamTrash": "true",
                },
            ).json()
            for message in found.get("messages", []):
                return str(message["threadId"])
        return None


def _address_of(from_header: str) -> str:
    pairs = getaddresses([str(from_header)])
    return (pairs[0][1] if pairs else "").lower()


def _holds(http: GmailHttp, query: str) -> bool:
    """Whether the mailbox ``http`` acts as has a message matching the search ``query``."""
    found = http.request(
        "GET", f"{ME}/messages", what="messages.list", params={"q": query, "maxResults": "1"}
    ).json()
    return bool(found.get("messages"))
