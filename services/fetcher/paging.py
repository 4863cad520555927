"""Reading one delta round page by page for the poller: each page's removals applied, its new
mails handed to the round's :class:`~services.fetcher.flow.MailFlow` in blocks of
:data:`~services.fetcher.flow.PREFETCH` (so small pages still fill a ``$batch`` and a publish
chunk). When a page fails, the mails of the pages before it still go out, then the error ends
the round; a failure that may be one message's narrows the next rounds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import structlog

from libs.common.mail import DeltaPage, MailError, MailUnavailable
from services.fetcher.flow import PREFETCH, MailFlow, Message
from services.fetcher.inflight import InFlight
from services.fetcher.narrowing import Ladder, is_read_fault
from services.fetcher.quarantine import error_line
from services.fetcher.unpublishable import FailureCounts

log = structlog.get_logger("services.fetcher")


@dataclass(frozen=True)
class DeltaRead:
    cursor: str
    skipped_in_flight: int
    resynced: bool


def read_delta(
    pages: Iterator[DeltaPage],
    flow: MailFlow,
    ladder: Ladder,
    inflight: InFlight,
    failures: FailureCounts,
) -> DeltaRead:
    """Every page until the one with the delta link; the new mails through ``flow``."""
    address = flow.address
    pending: list[Message] = []
    skipped, resynced = 0, False
    while True:
        try:
            page = _next_page(pages, ladder, address)
        except MailError:
            flow.run(pending)  # read before the failing page: they need not wait
            raise
        if page.resynced and not resynced:
            resynced = True
            log.warning("delta link expired; the folder is read again", mailbox=address)
        for gone in page.removed:
            inflight.discard(address, gone)
            failures.forget(gone)
        fresh, in_flight = flow.fresh(page.messages)
        pending += fresh
        skipped += in_flight
        if page.cursor is not None:
            flow.run(pending)
            return DeltaRead(page.cursor, skipped, resynced)
        if len(pending) >= PREFETCH:
            flow.run(pending)
            pending = []


def _next_page(pages: Iterator[DeltaPage], ladder: Ladder, address: str) -> DeltaPage:
    """The next page; a read fault narrows the next rounds before it ends this one."""
    try:
        page = next(pages, None)
    except MailError as exc:
        if is_read_fault(exc):
            log.warning(
                "delta read keeps failing; the next rounds read narrower",
                mailbox=address,
                mode=ladder.delta_failed(),
                error=error_line(exc),
                status=exc.status,
                code=exc.code,
            )
        raise
    if page is None:  # the client ends a round with a delta link or an error
        raise MailUnavailable(
            "delta round ended without a delta link",
            code="bad_delta_page",
            hint="Graph answered an incomplete delta round; retried later",
        )
    return page
