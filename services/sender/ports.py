"""What the sender's handler is built from: the adapters it talks through, and the one
error it raises of its own (another sender has the job)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from libs.common.contracts import BlobRef, OutboundResult
from libs.common.db.threads import RecordThread
from libs.common.errors import RetryableError
from libs.common.mail import MailSender
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.sender.config import SenderSettings
from services.sender.joblog import JobLogPort
from services.sender.pacing import Pacer

__all__ = ["JobInProgress", "SenderPorts"]


class JobInProgress(RetryableError):
    """Another sender holds a fresh claim on this job; it comes back after a retry tier."""

    code = "job_in_progress"


@dataclass
class SenderPorts:
    """The adapters the handler talks through (real ones in app.py, fakes in unit tests)."""

    config: MailpipeConfig
    settings: SenderSettings
    joblog: JobLogPort
    read_blob: Callable[[BlobRef], bytes]
    mail_for: Callable[[MailboxConfig], MailSender]
    thread_of: Callable[[int], RecordThread | None]
    #: The mailbox a record belongs to (``None``: no such record).
    record_mailbox: Callable[[int], str | None]
    #: The stored size of a blob (``None``: not in the store).
    blob_size: Callable[[BlobRef], int | None]
    publish: Callable[[OutboundResult], None]
    #: The mailbox's shared send slots (the rate across every sender).
    pacer: Pacer
    sleep: Callable[[float], None]
