"""What the ticketer knows of a mail before deciding: its attachments exist, and its facts
(from the raw MIME when the fetcher kept it, else from the contract)."""

from __future__ import annotations

from libs.common.contracts import InboundEmail
from libs.common.errors import PermanentError
from services.ticketer.domain.facts import MailFacts
from services.ticketer.domain.inbound import facts_from_inbound
from services.ticketer.ports import Blobs


class BadMimeError(PermanentError):
    """The raw MIME blob is not an RFC 822 message."""

    code = "bad_mime"


def read_facts(blobs: Blobs, email: InboundEmail) -> MailFacts:
    """The mail's facts; a missing blob or a raw MIME without headers is a permanent error."""
    for attachment in email.attachments:
        if not blobs.exists(attachment.blob):
            # get() raises the blob store's own typed error, with its hint.
            blobs.get(attachment.blob)
    raw = blobs.get(email.raw_mime) if email.raw_mime is not None else None
    facts = facts_from_inbound(email, raw)
    if raw is not None and not facts.headers:
        raise BadMimeError(
            f"the raw MIME of {email.message_id} has no headers: not an RFC 822 message",
            hint="look at the mail in the quarantine folder; replay it once it is fixed",
        )
    return facts
