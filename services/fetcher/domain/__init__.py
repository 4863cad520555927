"""The fetcher's pure domain: the mail port's ``MailMessage`` → ``InboundEmail`` fields, and
what to do with a processed mail. Plain functions over plain data; no mail client, broker or
database."""

from services.fetcher.domain.actions import Step, plan_step
from services.fetcher.domain.headers import extract_headers
from services.fetcher.domain.mapping import (
    build_inbound,
    needs_attachments,
    needs_raw_mime,
    parse_address,
)

__all__ = [
    "Step",
    "build_inbound",
    "extract_headers",
    "needs_attachments",
    "needs_raw_mime",
    "parse_address",
    "plan_step",
]
