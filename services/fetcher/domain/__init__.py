"""The fetcher's pure domain: Graph message JSON → ``InboundEmail`` fields, and what to do
with a processed mail. Plain functions over plain data; no Graph client, broker or database."""

from services.fetcher.domain.actions import Step, plan_step
from services.fetcher.domain.headers import extract_headers
from services.fetcher.domain.mapping import (
    FETCH_SELECT,
    build_inbound,
    needs_attachments,
    needs_raw_mime,
    parse_address,
)

__all__ = [
    "FETCH_SELECT",
    "Step",
    "build_inbound",
    "extract_headers",
    "needs_attachments",
    "needs_raw_mime",
    "parse_address",
    "plan_step",
]
