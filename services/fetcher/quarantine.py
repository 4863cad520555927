"""The one way the fetcher quarantines a mail itself: moved by id to the mailbox's quarantine
folder, with its reason said once.

Two kinds of mail end here, both after :data:`~services.fetcher.unpublishable.QUARANTINE_AFTER`
rounds in a row: mail that can never be *published* (it does not fit the contract) and mail
Graph cannot *read* (a read of it fails while the same read of other mail succeeds). Every
such mail goes through :meth:`Quarantiner.quarantine` with a :class:`Quarantined` entry
(mailbox, Graph id, reason, error, hint, what is known of the mail), so that whatever else
must happen when the fetcher quarantines a mail happens in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from pydantic import ValidationError

from libs.common.contracts import QuarantinedEmail
from libs.common.errors import PermanentError
from libs.common.mail import MailAuthError, Mailbox, MailError, MailMessage, MailNotFound
from libs.common.msgid import canonical_message_id
from libs.common.settings import MailboxConfig
from services.fetcher import metrics
from services.fetcher.domain.headers import clean_value
from services.fetcher.narrowing import ReadKind

log = structlog.get_logger("services.fetcher")

#: ``unpublishable``: read, but it cannot become an ``InboundEmail``; ``unreadable``: Graph
#: fails to serve it (its properties, attachments or MIME) while it serves other mail.
Reason = Literal["unpublishable", "unreadable"]
#: ``quarantined``: moved; ``gone``: it left the folder before (nothing to do);
#: ``failed``: the move failed this round (logged; tried again next round).
MoveOutcome = Literal["quarantined", "gone", "failed"]


@dataclass(frozen=True)
class MailFacts:
    """What is known of a mail besides its Graph id (nothing, when Graph cannot read it)."""

    internet_message_id: str | None = None
    subject: str | None = None
    sender: str | None = None
    received: str | None = None

    @classmethod
    def of(cls, message: MailMessage | None) -> MailFacts:
        """From the message's summary, leniently (any field may be missing or odd)."""
        if message is None:
            return cls()
        return cls(
            # Canonical from the whole value: cut first, a long id would get another digest.
            internet_message_id=canonical_message_id(_text(message.internet_message_id, None)),
            subject=_text(message.subject),
            sender=_text(message.from_.address) if message.from_ else None,
            received=_text(message.received_at),
        )


@dataclass(frozen=True)
class Unread:
    """A mail whose read failed this round, judged at the round's end (``MailFlow.finish``)."""

    message_id: str
    kind: ReadKind
    error: MailError
    facts: MailFacts


def _text(value: Any, limit: int | None = 998) -> str | None:
    """``value`` as valid text, cut to ``limit`` characters (``None``: uncut); ``None`` when
    it is not a non-empty string."""
    return clean(value[:limit]) if isinstance(value, str) and value else None


def clean(text: str) -> str:
    """``text`` as valid Unicode: a lone UTF-16 surrogate (Graph cut an emoji in two) becomes
    U+FFFD, so that the entry can be logged, serialised and stored anywhere."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@dataclass(frozen=True)
class Quarantined:
    """One mail the fetcher quarantines, and why."""

    mailbox: str
    message_id: str
    #: The folder it was read from (the mailbox's watched folder).
    folder: str
    reason: Reason
    #: The error in one line (for Graph: the operation, status, code and request id).
    error: str
    #: The error's code (``contract_error``, ``ErrorInternalServerError``, ``http_500`` …).
    code: str
    #: One line: what to do about it.
    hint: str
    #: Rounds in a row it failed.
    failures: int
    facts: MailFacts = field(default_factory=MailFacts)


def error_line(exc: Exception) -> str:
    """An error in one line; a Graph error with its request id (what Microsoft asks for)."""
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    request_id = getattr(exc, "request_id", None)
    line = clean(" ".join(str(message).split()))
    return f"{line} (request-id {request_id})" if request_id else line


_HINTS: dict[str, str] = {
    "unpublishable": "look at the mail in the folder {folder!r}; once the cause is fixed, "
    "move it back to the inbox and it is fetched again",
    "unreadable": "Graph cannot serve this mail (look at it in Outlook, in the folder "
    "{folder!r}); move it back to the inbox to fetch it again, or forward it as a new mail",
}


#: Publishes the event that lists a quarantined mail in the ticketer's quarantine view.
Report = Callable[[QuarantinedEmail], None]


class Quarantiner:
    """Moves a mail aside so the mailbox moves on. No InboundEmail is published for it; a
    ``QuarantinedEmail`` is (through ``report``), so ``mailpipe quarantine list`` shows it."""

    def __init__(self, box: MailboxConfig, graph: Mailbox, report: Report | None = None) -> None:
        self._box = box
        self._graph = graph
        self._report = report

    def action(self, reason: Reason) -> str:
        return _HINTS[reason].format(folder=self._box.quarantine_folder)

    def quarantine(self, entry: Quarantined) -> MoveOutcome:
        """Move ``entry``'s mail by id to the quarantine folder and say why (one ERROR line,
        a metric). A refused credential raises (the mailbox's failure, not the mail's).

        The event is published *before* the move: a mail moved but never listed would be
        found by nobody, while a listing whose move fails is completed by the next round's
        move (the ticketer lists a mail once however often it is told). A broker that cannot
        take it raises, which ends the round with the mail still in the inbox."""
        folder = self._box.quarantine_folder
        if self._report is not None:
            event = self._event(entry)
            if event is not None:
                self._report(event)
        try:
            self._graph.move(entry.message_id, folder)
        except MailNotFound:
            log.info("mail to quarantine vanished before it was moved; skipped")
            return "gone"
        except MailAuthError:
            raise
        except (PermanentError, MailError) as move_exc:
            # Retryable too: the mail stays, the round stays incomplete, the next one tries
            # again (a move Graph did but answered badly shows up as the mail gone).
            _log_failed_move(entry, folder, move_exc)
            return "failed"
        self._count_and_log_moved(entry, folder)
        return "quarantined"

    def _count_and_log_moved(self, entry: Quarantined, folder: str) -> None:
        """The metric of its reason and the one ERROR line of a mail moved to quarantine."""
        counter = (
            metrics.QUARANTINED_UNREADABLE
            if entry.reason == "unreadable"
            else metrics.QUARANTINED_UNPUBLISHABLE
        )
        counter.labels(entry.mailbox).inc()
        log.error(
            f"{entry.reason} mail moved to quarantine",
            mailbox=entry.mailbox,
            correlation_id=entry.message_id,
            reason=entry.reason,
            error=entry.error,
            code=entry.code,
            hint=entry.hint,
            folder=folder,
            failures=entry.failures,
            internet_message_id=entry.facts.internet_message_id,
            subject=entry.facts.subject,
            sender=entry.facts.sender,
            action=self.action(entry.reason),
        )

    def _event(self, entry: Quarantined) -> QuarantinedEmail | None:
        detail = f"{entry.error} — {entry.hint}" if entry.hint else entry.error
        try:
            return QuarantinedEmail(
                mailbox=entry.mailbox,
                folder=entry.folder,
                provider=self._box.provider,
                message_id=entry.message_id,
                internet_message_id=entry.facts.internet_message_id,
                subject=clean_value(entry.facts.subject),
                reason=f"{entry.reason}:{entry.code}"[:200],
                detail=detail[:2000],
                failures=entry.failures,
                quarantined_at=datetime.now(UTC),
            )
        except ValidationError as exc:  # never let the listing stop the move
            log.error("quarantine event not built; the mail is moved all the same", error=str(exc))
            return None


def _log_failed_move(entry: Quarantined, folder: str, move_exc: Exception) -> None:
    """The one ERROR line of a mail whose move failed this round."""
    log.error(
        f"{entry.reason} mail could not be moved to quarantine",
        mailbox=entry.mailbox,
        correlation_id=entry.message_id,
        error=entry.error,
        move_error=error_line(move_exc),
        hint=getattr(move_exc, "hint", None),
        folder=folder,
    )
