"""Building one mail's InboundEmail: attachments and raw MIME into the blob store, then the
contract, serialised once so that a mail that cannot be sent fails as its own ContractError."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from libs.common.blobs import BlobStore
from libs.common.contracts import AttachmentRef, InboundEmail
from libs.common.errors import ContractError
from libs.common.graph import Attachment, GraphError, GraphMail, GraphNotFound
from libs.common.settings import MailboxConfig
from services.fetcher.domain import build_inbound, needs_attachments, needs_raw_mime
from services.fetcher.domain.mapping import attachment_ref


class MailBuilder:
    """Not thread-safe: one per poller."""

    def __init__(self, box: MailboxConfig, graph: GraphMail, blobs: BlobStore) -> None:
        self._box = box
        self._graph = graph
        self._blobs = blobs
        self._listed: dict[str, list[Attachment] | GraphError] = {}

    def prefetch(self, messages: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """List the attachments of the mails that have any, for the next :meth:`build` calls,
        with one ``$batch`` per 20 such mails instead of one request per mail."""
        ids = [graph_id for graph_id, message in messages if needs_attachments(message)]
        self._listed = self._graph.get_attachments_many(ids) if ids else {}

    def _attachments(self, graph_id: str) -> list[Attachment]:
        listed = self._listed.pop(graph_id, None)
        if isinstance(listed, list):
            return listed
        if isinstance(listed, GraphNotFound):
            raise listed  # gone since the delta page: the caller skips it
        # Not listed, or its batch item failed (throttled past the budget, too large an
        # answer…): on its own, so that its error is its own and a big one gets a request.
        return self._graph.get_attachments(graph_id)

    def build(self, graph_id: str, message: Mapping[str, Any]) -> InboundEmail:
        """The InboundEmail of one mail, its attachments and raw MIME in the blob store."""
        attachments: list[AttachmentRef] = []
        if needs_attachments(message):
            for att in self._attachments(graph_id):
                if not att.content and att.kind.endswith("referenceAttachment"):
                    continue  # a link to a file elsewhere, not bytes
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
        raw = None
        if needs_raw_mime(message, keep_raw_mime=self._box.keep_raw_mime):
            raw = self._blobs.put(self._graph.get_mime(graph_id))
        try:
            email = build_inbound(
                message,
                mailbox=self._box.address,
                folder=self._box.folder,
                fetched_at=datetime.now(UTC),
                attachments=attachments,
                raw_mime=raw,
            )
            # Serialise once here: text the contract accepts may still not be JSON (a lone
            # UTF-16 surrogate, when Graph cut a string inside a pair), and that must fail as
            # this mail's contract error, not as a broken round.
            email.to_json()
        except (ValueError, OverflowError) as exc:
            # Pydantic's validation and serialisation errors are ValueErrors, extreme times
            # overflow: this mail's data. Anything else is a bug and fails the poll loudly.
            raise ContractError(
                f"mail {graph_id[:40]} does not fit InboundEmail: {str(exc)[:300]}",
                hint="report this mail to the maintainers (it is kept in the mailbox); the "
                "mapping needs a fix",
            ) from None
        return email
