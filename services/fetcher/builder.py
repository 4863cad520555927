"""Building one mail's InboundEmail: attachments and raw MIME into the blob store, then the
contract, serialised once so that a mail that cannot be sent fails as its own ContractError.

Each read of a mail's parts is counted in the round's :class:`Reads` (the proof that Graph
serves that kind of read to other mail); a read that fails in a way that may be the mail's
own fault raises :class:`ReadFailed` instead of ending the round."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import TypeVar

import structlog

from libs.common.blobs import BlobStorage
from libs.common.contracts import (
    MAX_ATTACHMENTS,
    AttachmentRef,
    BlobRef,
    InboundEmail,
    MailHeaders,
)
from libs.common.errors import ContractError
from libs.common.mail import Attachment, Mailbox, MailError, MailMessage, MailNotFound
from libs.common.settings import MailboxConfig
from services.fetcher.domain import (
    build_inbound,
    extract_headers,
    needs_attachments,
    needs_raw_mime,
)
from services.fetcher.domain.mapping import attachment_ref
from services.fetcher.narrowing import (
    NARROW_RETRY_S,
    ReadKind,
    Reads,
    is_read_fault,
    is_retryable_read_fault,
)

T = TypeVar("T")

log = structlog.get_logger("services.fetcher")


class ReadFailed(Exception):
    """A read of one mail's part failed in a way that may be the mail's own fault (a 500
    where other mail is served): the round goes on, the poller judges it at the end."""

    def __init__(self, kind: ReadKind, error: MailError) -> None:
        super().__init__(f"{kind} read failed: {error.message}")
        self.kind: ReadKind = kind
        self.error = error


class MailBuilder:
    """Not thread-safe: one per poller."""

    def __init__(self, box: MailboxConfig, graph: Mailbox, blobs: BlobStorage) -> None:
        self._box = box
        self._graph = graph
        self._blobs = blobs
        self._listed: dict[str, list[Attachment] | MailError] = {}
        #: The current round's reads (the poller sets a fresh one per round).
        self.reads = Reads()

    def prefetch(
        self, messages: Sequence[tuple[str, MailMessage]], skip: frozenset[str] = frozenset()
    ) -> None:
        """List the attachments of the mails that have any, for the next :meth:`build` calls,
        with one ``$batch`` per 20 such mails instead of one request per mail. Mails in
        ``skip`` (a read of theirs failed before) are left to be read on their own, so that
        their retries do not hold the batch."""
        ids = [gid for gid, message in messages if needs_attachments(message) and gid not in skip]
        self._listed = self._graph.get_attachments_many(ids) if ids else {}
        self.reads.succeeded("attachments", sum(isinstance(v, list) for v in self._listed.values()))

    def _attachments(self, message_id: str, suspect: bool) -> list[Attachment]:
        listed = self._listed.pop(message_id, None)
        if isinstance(listed, list):
            return listed
        if isinstance(listed, MailNotFound):
            raise listed  # gone since the delta page: the caller skips it
        # Not listed, or its batch item failed (throttled past the budget, too large an
        # answer…): on its own, so that its error is its own and a big one gets a request.
        # After a read fault in the batch (retried for the whole budget there), briefly.
        again = suspect or (listed is not None and is_read_fault(listed))
        return self._read("attachments", again, lambda: self._graph.get_attachments(message_id))

    def _read(self, kind: ReadKind, suspect: bool, read: Callable[[], T]) -> T:
        """One read of a mail's part, counted; a possible fault of the mail's own raises
        :class:`ReadFailed`. A suspect (its read failed before) gets a short retry budget."""
        budget: AbstractContextManager[None] = (
            self._graph.retry_budget(NARROW_RETRY_S) if suspect else nullcontext()
        )
        try:
            with budget:
                result = read()
        except MailError as exc:
            if not is_retryable_read_fault(exc):
                raise
            self.reads.failed(kind)
            raise ReadFailed(kind, exc) from exc
        self.reads.succeeded(kind)
        return result

    def build(
        self, message_id: str, message: MailMessage, *, suspect: bool = False
    ) -> InboundEmail:
        """The InboundEmail of one mail, its attachments and raw MIME in the blob store."""
        attachments, omitted = self._stored_attachments(message_id, message, suspect)
        headers = extract_headers(message.headers)  # once: the raw-MIME rule reads them too
        raw = self._stored_mime(message_id, message, suspect, headers, keep=omitted > 0)
        if omitted:
            log.warning(
                "attachments_over_limit",
                mailbox=self._box.address,
                kept=len(attachments),
                omitted=omitted,
            )
        try:
            email = build_inbound(
                message,
                mailbox=self._box.address,
                provider=self._box.provider,
                folder=self._box.folder,
                fetched_at=datetime.now(UTC),
                attachments=attachments,
                raw_mime=raw,
                headers=headers,
            )
            # Serialise once here: text the contract accepts may still not be JSON (a lone
            # UTF-16 surrogate, when Graph cut a string inside a pair), and that must fail as
            # this mail's contract error, not as a broken round.
            email.to_json()
        except (ValueError, OverflowError) as exc:
            # Pydantic's validation and serialisation errors are ValueErrors, extreme times
            # overflow: this mail's data. Anything else is a bug and fails the poll loudly.
            raise ContractError(
                f"mail {message_id[:40]} does not fit InboundEmail: {str(exc)[:300]}",
                hint="report this mail to the maintainers (it is kept in the mailbox); the "
                "mapping needs a fix",
            ) from None
        return email

    def _stored_attachments(
        self, message_id: str, message: MailMessage, suspect: bool
    ) -> tuple[list[AttachmentRef], int]:
        """The mail's attachments put in the blob store, as the contract refers to them, and
        how many were left out: the contract carries MAX_ATTACHMENTS at most, and the rest
        stay in the raw MIME kept for such a mail."""
        attachments: list[AttachmentRef] = []
        omitted = 0
        if needs_attachments(message):
            for att in self._attachments(message_id, suspect):
                if not att.content and att.kind == "reference":
                    continue  # a link to a file elsewhere, not bytes
                if len(attachments) >= MAX_ATTACHMENTS:
                    omitted += 1
                    continue
                ref = self._blobs.put(att.content)
                attachments.append(
                    attachment_ref(
                        att.name,
                        att.content_type,
                        ref,
                        is_inline=att.is_inline,
                        content_id=att.content_id,
                    )
                )
        return attachments, omitted

    def _stored_mime(
        self,
        message_id: str,
        message: MailMessage,
        suspect: bool,
        headers: MailHeaders,
        *,
        keep: bool = False,
    ) -> BlobRef | None:
        """The mail's raw MIME put in the blob store, when it is kept (the mailbox says so, or
        ``keep``: attachments were left out) or needed (a delivery report: the ticketer reads
        its report parts)."""
        keep = keep or self._box.keep_raw_mime
        if not needs_raw_mime(message, keep_raw_mime=keep, headers=headers):
            return None
        mime = self._read("mime", suspect, lambda: self._graph.get_mime(message_id))
        return self._blobs.put(mime)
