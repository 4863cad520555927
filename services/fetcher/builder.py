"""Building one mail's InboundEmail: attachments and raw MIME into the blob store, then the
contract, serialised once so that a mail that cannot be sent fails as its own ContractError."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from libs.common.blobs import BlobStore
from libs.common.contracts import AttachmentRef, InboundEmail
from libs.common.errors import ContractError
from libs.common.graph import GraphMail
from libs.common.settings import MailboxConfig
from services.fetcher.domain import build_inbound, needs_attachments, needs_raw_mime
from services.fetcher.domain.mapping import attachment_ref


class MailBuilder:
    def __init__(self, box: MailboxConfig, graph: GraphMail, blobs: BlobStore) -> None:
        self._box = box
        self._graph = graph
        self._blobs = blobs

    def build(self, graph_id: str, message: Mapping[str, Any]) -> InboundEmail:
        """The InboundEmail of one mail, its attachments and raw MIME in the blob store."""
        attachments: list[AttachmentRef] = []
        if needs_attachments(message):
            for att in self._graph.get_attachments(graph_id):
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
