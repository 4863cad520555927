"""Isolating what Graph cannot serve: which failed reads may be one message's fault, how a
mailbox's reads narrow while its delta read keeps failing, and when a failed read counts
against its message.

Real Exchange sometimes fails a read because of one message it cannot render: a delta page
that always answers 500, or one mail's attachment list or ``$value``. Left alone, such a
message holds the whole mailbox back (the round never completes, the delta link is never
saved). So the poller narrows its reads step by step (:class:`Ladder`): delta pages of
:data:`SMALL_PAGE` (the pages before the bad one get through), then an id-only listing of
the folder with every mail read on its own. A mail whose read fails is counted towards
quarantine only with a proof that Graph serves this mailbox meanwhile: the same kind of read
succeeded for another mail in the same round (:class:`Reads`), else the proofs of
:mod:`services.fetcher.evidence`. When Graph fails for everything, nothing is counted,
nothing is quarantined.

Plain data and functions; no I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from libs.common.mail import (
    CursorExpired,
    MailAuthError,
    MailError,
    MailNotFound,
    MailPermanentError,
    Throttled,
)
from services.fetcher.unpublishable import is_mail_fault

Mode = Literal["full", "small", "by_id"]
#: What was read: a message's properties (a delta page, a listing or a GET), its attachment
#: list, or its raw MIME (``$value``).
ReadKind = Literal["message", "attachments", "mime"]

#: Messages per delta page once full pages kept failing.
SMALL_PAGE = 10
#: Complete rounds with small pages before full pages are tried again.
RELAX_AFTER = 5
#: Retry budget of a read that failed before: the next round tries it again anyway, so one
#: bad message must not hold a round for the client's whole budget (minutes).
NARROW_RETRY_S = 15.0
#: Reads of one kind failing in a row with none of that kind succeeding: Graph fails for
#: everything; the round ends instead of trying every other mail too.
OUTAGE_AFTER = 3


def is_read_fault(exc: BaseException) -> bool:
    """True when a failed read may be the fault of a message it serves: a Graph error that
    is not throttling or a ``Retry-After`` (Graph pacing us or down for all), not the
    credential, not an unreachable Graph, not about the mailbox or the app, not "gone"."""
    if not isinstance(exc, MailError):
        return False
    if isinstance(exc, Throttled | MailAuthError | MailNotFound | CursorExpired):
        return False
    if exc.retry_after_s is not None or exc.code == "connection_error":
        return False
    if isinstance(exc, MailPermanentError):
        return is_mail_fault(exc)
    return True  # 500, 502, 503/504 without Retry-After, a timeout, an unreadable answer


def is_retryable_read_fault(exc: BaseException) -> bool:
    """A read fault the Graph client would retry: it counts only with a neighbour's proof.
    (A permanent one — 400, 413 for this mail — is the mail's own at once.)"""
    return is_read_fault(exc) and isinstance(exc, MailError) and exc.retryable


@dataclass
class Ladder:
    """How one mailbox reads its folder now: ``full`` delta pages, ``small`` ones, or
    ``by_id`` (an id-only listing, every mail read on its own, no delta link saved)."""

    mode: Mode = "full"
    #: Complete small-page rounds in a row (relaxes to full pages at :data:`RELAX_AFTER`).
    calm: int = 0

    def page_size(self, full: int) -> int:
        return full if self.mode == "full" else min(full, SMALL_PAGE)

    def delta_failed(self) -> Mode:
        """A delta page failed with a read fault: one step narrower."""
        self.mode = "small" if self.mode == "full" else "by_id"
        self.calm = 0
        return self.mode

    def delta_read(self) -> bool:
        """Every delta page of a round was read; True when this relaxes to full pages."""
        if self.mode != "small":
            return False
        self.calm += 1
        if self.calm < RELAX_AFTER:
            return False
        self.mode, self.calm = "full", 0
        return True

    def by_id_done(self, unread: int) -> bool:
        """A by-id round ended with ``unread`` mails still unread; when none is left (each
        published or quarantined), delta is read again (small pages) so that the link moves
        on. True when the mode changed."""
        if unread:
            return False
        self.mode, self.calm = "small", 0
        return True


@dataclass
class Reads:
    """One round's reads by kind: which succeeded, and how many failed in a row."""

    ok: Counter[str] = field(default_factory=Counter)
    failed_in_row: Counter[str] = field(default_factory=Counter)

    def succeeded(self, kind: ReadKind, count: int = 1) -> None:
        if count > 0:
            self.ok[kind] += count
            self.failed_in_row[kind] = 0

    def failed(self, kind: ReadKind) -> None:
        self.failed_in_row[kind] += 1

    def proven(self, kind: ReadKind) -> bool:
        """Another mail's read of this kind succeeded this round: a failure is the mail's."""
        return self.ok[kind] > 0

    def everything_fails(self, kind: ReadKind) -> bool:
        return self.ok[kind] == 0 and self.failed_in_row[kind] >= OUTAGE_AFTER
