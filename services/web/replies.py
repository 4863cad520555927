"""Sending a console reply (docs/console.md, "Replying"): the reply is stored with who wrote
it and as which address, its large files are put into the blob store (the job carries their
reference, never their bytes), and its ``OutboundEmail`` job is published to the sender's
queue on the outbound exchange, as any AMQP client publishes one (docs/publishing-jobs.md).

The job id comes from the form's key, so a form sent twice is one stored reply and one job:
it is published again (the sender answers a repeated job id from its job log and sends
nothing twice), which also sends a reply whose first publish the broker never confirmed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from libs.common.blobs import BlobStorage
from libs.common.broker import Broker, Names
from libs.common.contracts import OutboundEmail
from libs.common.db.record_views import RecordLine
from libs.common.db.replies import NewReply, Replies
from libs.common.errors import ConfigError
from services.web.domain.replying import (
    INLINE_BYTES,
    Draft,
    Reply,
    Upload,
    attachment_header,
    build_job,
    inline_attachment,
)

Publish = Callable[[OutboundEmail], None]


class NoBlobStore(ConfigError):
    code = "no_blob_store"


def broker_publisher(amqp_url: str | None = None) -> Publish:
    """Publish each job on the broker of the settings (or ``amqp_url``), a connection a job."""

    def publish(job: OutboundEmail) -> None:
        from libs.common.settings import Settings

        settings = Settings()
        url = amqp_url or settings.amqp_url.get_secret_value()
        with Broker(url, Names(settings.namespace)) as broker:
            broker.publish_routed(job, correlation_id=job.job_id)

    return publish


@dataclass(frozen=True)
class Sent:
    job: OutboundEmail
    #: ``False`` when the form had been sent before (the same key): nothing new stored.
    new: bool


class ReplyDesk:
    def __init__(
        self,
        replies: Replies,
        publish: Publish,
        blobs: BlobStorage | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.replies = replies
        self._publish = publish
        self._blobs = blobs
        self._clock = clock

    def store(self, record: RecordLine, draft: Draft, user_id: int, username: str) -> Sent:
        """Store the reply (its large files put into the blob store) and return its job;
        ``new`` is ``False`` when this form was stored before. Raises a ContractError for a
        value the contract refuses, :class:`NoBlobStore` for a large file without a store."""
        assert record.requester_address is not None
        threading = self.replies.threading(record.id)
        job = build_job(
            Reply(
                record_id=record.id,
                key=draft.key,
                mailbox=record.mailbox,
                from_address=draft.from_address,
                to=record.requester_address,
                subject=record.subject,
                text=draft.text,
                in_reply_to=threading.in_reply_to,
                references=threading.references,
                attachments=tuple(self._attachment(u) for u in draft.files),
                created_at=self._clock(),
            )
        )
        new = self.replies.add(
            NewReply(
                job_id=job.job_id,
                record_id=record.id,
                user_id=user_id,
                username=username,
                mailbox=job.mailbox,
                from_address=job.from_address or job.mailbox,
                subject=job.subject,
                body_text=draft.text,
                attachments=tuple({"name": a.name, "size": a.size} for a in job.attachments),
            )
        )
        return Sent(job, new)

    def publish(self, sent: Sent) -> None:
        """Hand the job to the sender (again, for a form sent twice: answered once)."""
        self._publish(sent.job)

    def _attachment(self, upload: Upload) -> dict[str, object]:
        if len(upload.data) <= INLINE_BYTES:
            return inline_attachment(upload)
        if self._blobs is None:
            raise NoBlobStore(
                f"{upload.name} is over {INLINE_BYTES} bytes and this console has no blob store",
                hint="set MAILPIPE_BLOB_STORE (or MAILPIPE_BLOB_DIR) as for the sender",
            )
        # A large file goes by reference: its content is never base64-encoded into the job.
        return attachment_header(upload) | {"blob": self._blobs.put(upload.data).model_dump()}
