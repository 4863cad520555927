"""Proof that a failed read is one mail's fault, and the memory that makes it last.

A failed read counts against its mail when Graph is seen serving this mailbox while it
refuses this one mail (:meth:`Prober.proof`):

- ``served``: the same kind of read succeeded for another mail this round, or succeeds now
  for one of a few neighbours (mail of the round, one in flight, else any mail of the
  mailbox but what is in the quarantine folder: Graph could not read that before);
- ``alone``: no other mail is there to read, but the folder's listing named the mail this
  round and the folder itself (``GET mailFolders/{folder}``, which renders no message) is
  served now. Such a failure counts while it repeats the same error round after round
  (:class:`LastErrors`): a changed error starts the count again.

Nothing is proven, and no mail blamed, when the neighbours' reads fail too, when the
mailbox's listing or the folder read fails: Graph fails for everyone (an outage).

Also reads what little Graph may still tell of a mail it cannot serve in full, for its
quarantine entry."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any, Literal

import structlog

from libs.common.mail import MailAuthError, Mailbox, MailError, MailNotFound
from services.fetcher.narrowing import NARROW_RETRY_S, ReadKind, Reads
from services.fetcher.quarantine import MailFacts, error_line

log = structlog.get_logger("services.fetcher")

#: Neighbours a probe tries (one that vanished meanwhile is skipped).
PROBES = 3
#: At most this many ids of the mailbox are listed to find a neighbour that is no suspect.
LISTED_MAX = 1000
#: How a failed read is proven to be the mail's (module docstring); None: not proven.
Proof = Literal["served", "alone"]
#: What a failed read is remembered by from one round to the next.
Signature = tuple[ReadKind, int | None, str]

_READS: dict[str, Callable[[Mailbox, str], Any]] = {
    "message": lambda graph, gid: graph.get_message(gid, view="full"),
    "attachments": lambda graph, gid: graph.get_attachments(gid),
    "mime": lambda graph, gid: graph.get_mime(gid),
}


class Prober:
    """One round's proofs; a probe runs at most once per kind. Not thread-safe."""

    def __init__(
        self,
        graph: Mailbox,
        reads: Reads,
        folder: str = "inbox",
        quarantine_folder: str = "mailpipe-quarantine",
    ) -> None:
        self._graph = graph
        self._reads = reads
        self._folder = folder
        self._quarantine_folder = quarantine_folder
        self._probed: dict[str, Proof | None] = {}
        #: Ids of mail this round's listing or delta pages named (published, in flight or
        #: not): the first neighbours.
        self.neighbours: list[str] = []

    def proven(self, kind: ReadKind, suspects: set[str]) -> bool:
        """Whether a failed ``kind`` read of one of ``suspects`` is the mail's own."""
        return self.proof(kind, suspects) is not None

    def proof(self, kind: ReadKind, suspects: set[str]) -> Proof | None:
        """How Graph is seen serving ``kind`` reads of this mailbox while it fails them for
        ``suspects``; None when nothing shows it (Graph may fail for everyone)."""
        if self._reads.proven(kind):
            return "served"
        if kind not in self._probed:
            self._probed[kind] = self._probe(kind, suspects)
        return self._probed[kind]

    def _probe(self, kind: ReadKind, suspects: set[str]) -> Proof | None:
        candidates = self._candidates(suspects)
        if candidates is None:
            return None
        failed: MailError | None = None
        for neighbour in candidates:
            try:
                with self._graph.retry_budget(NARROW_RETRY_S):
                    _READS[kind](self._graph, neighbour)
            except MailNotFound:
                continue
            except MailAuthError:
                raise
            except MailError as exc:
                failed = exc  # that one may be unreadable too; another may be served
                continue
            self._reads.succeeded(kind)
            return "served"
        if failed is not None:
            # Other mail fails the same read: Graph's trouble, whatever else it serves.
            log.info("probe reads of other mail failed", read=kind, error=error_line(failed))
            return None
        return self._alone(kind, suspects)

    def _candidates(self, suspects: set[str]) -> list[str] | None:
        """Mail to read instead of the suspects: of the round, else of the whole mailbox
        (enough ids to get past every suspect); None when the mailbox cannot be listed."""
        picked = [gid for gid in dict.fromkeys(self.neighbours) if gid not in suspects]
        if picked:
            return picked[:PROBES]
        try:
            skip = suspects | set(self._held())
            listed = self._ids(None, len(skip) + PROBES)
        except MailAuthError:
            raise
        except MailError as exc:
            log.info("the mailbox's listing failed; nothing is proven", error=error_line(exc))
            return None
        return [gid for gid in listed if gid not in skip][:PROBES]

    def _held(self) -> list[str]:
        """Ids in the quarantine folder (none before it exists): Graph could not read them
        before, so their reads prove nothing either way."""
        try:
            return self._ids(self._quarantine_folder, LISTED_MAX)
        except MailNotFound:
            return []

    def _ids(self, folder: str | None, limit: int) -> list[str]:
        """Up to ``limit`` ids of ``folder`` (of the whole mailbox when None)."""
        limit = min(limit, LISTED_MAX)
        with self._graph.retry_budget(NARROW_RETRY_S):
            listing = self._graph.iter_messages(folder, view="id", top=min(limit, 500))
            ids = [m.id for m in islice(listing, limit)]
        return [gid for gid in ids if gid]

    def _alone(self, kind: ReadKind, suspects: set[str]) -> Proof | None:
        """No other mail to read: Graph serves this mailbox when the folder's listing named
        every suspect this round and the folder itself is served now."""
        if not suspects or not suspects <= set(self.neighbours):
            return None
        try:
            with self._graph.retry_budget(NARROW_RETRY_S):
                self._graph.get_folder(self._folder)
        except MailAuthError:
            raise
        except MailError as exc:
            log.info("the folder read failed too; nothing is proven", error=error_line(exc))
            return None
        log.info(
            "no other mail to compare; Graph serves the folder: a failed read that repeats is "
            "the mail's",
            read=kind,
        )
        return "alone"

    def facts_of(self, message_id: str) -> MailFacts:
        """What Graph still tells of a mail it cannot serve in full (its ``summary``: little,
        so that it may still come; one try; may be nothing)."""
        try:
            with self._graph.retry_budget(0.0):
                return MailFacts.of(self._graph.get_message(message_id, view="summary"))
        except MailAuthError:
            raise
        except MailError:
            return MailFacts()


class LastErrors:
    """The error each mail last failed with, per mailbox and across rounds (the poller
    keeps one). A failure proven only by the mail being ``alone`` counts while it repeats
    the same error: a changed one starts the count again. Not thread-safe."""

    def __init__(self) -> None:
        self._last: dict[str, Signature] = {}

    def restarts(self, message_id: str, signature: Signature, proof: Proof) -> bool:
        """Remember ``signature``; True when the count of an ``alone`` failure must start
        again because the mail failed otherwise before."""
        before = self._last.get(message_id)
        self._last[message_id] = signature
        return proof == "alone" and before is not None and before != signature

    def retain(self, keep: Callable[[str], bool]) -> None:
        """Forget the mails ``keep`` rejects (published, quarantined, gone)."""
        self._last = {gid: sig for gid, sig in self._last.items() if keep(gid)}

    def __len__(self) -> int:
        return len(self._last)
