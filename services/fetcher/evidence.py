"""Proof that a failed read is one mail's fault: the same kind of read succeeded for another
mail this round, or — when no other mail needed it — one read of a neighbour (a mail of the
same round, else any mail of the mailbox) succeeds now. When that read fails too, Graph
fails for everyone and no mail is blamed.

Also reads what little Graph may still tell of a mail it cannot serve in full, for its
quarantine entry."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

import structlog

from libs.common.graph import GraphAuthError, GraphError, GraphMail, GraphNotFound
from services.fetcher.domain import FETCH_SELECT
from services.fetcher.narrowing import NARROW_RETRY_S, ReadKind, Reads
from services.fetcher.quarantine import MailFacts, error_line

log = structlog.get_logger("services.fetcher")

#: Neighbours a probe tries (one that vanished meanwhile is skipped).
PROBES = 3
#: What the quarantine entry of an unreadable mail asks for: little, so it may still come.
FACTS_SELECT = ("internetMessageId", "subject", "from", "receivedDateTime")

_READS: dict[str, Callable[[GraphMail, str], Any]] = {
    "message": lambda graph, gid: graph.get_message(gid, select=FETCH_SELECT),
    "attachments": lambda graph, gid: graph.get_attachments(gid),
    "mime": lambda graph, gid: graph.get_mime(gid),
}


class Prober:
    """One round's proofs; a probe runs at most once per kind. Not thread-safe."""

    def __init__(self, graph: GraphMail, reads: Reads) -> None:
        self._graph = graph
        self._reads = reads
        self._probed: dict[str, bool] = {}
        #: Ids of mail this round saw (published, in flight or not): the first neighbours.
        self.neighbours: list[str] = []

    def proven(self, kind: ReadKind, suspects: set[str]) -> bool:
        """Whether Graph serves ``kind`` reads to mail other than ``suspects`` now."""
        if self._reads.proven(kind):
            return True
        if kind not in self._probed:
            self._probed[kind] = self._probe(kind, suspects)
        return self._probed[kind]

    def _probe(self, kind: ReadKind, suspects: set[str]) -> bool:
        for neighbour in self._candidates(suspects):
            try:
                with self._graph.retry_budget(NARROW_RETRY_S):
                    _READS[kind](self._graph, neighbour)
            except GraphNotFound:
                continue
            except GraphAuthError:
                raise
            except GraphError as exc:
                log.info("probe read of a neighbour failed", read=kind, error=error_line(exc))
                return False
            self._reads.succeeded(kind)
            return True
        log.info("no neighbour to probe; nothing proves a failed read is the mail's", read=kind)
        return False

    def _candidates(self, suspects: set[str]) -> list[str]:
        picked = [gid for gid in dict.fromkeys(self.neighbours) if gid not in suspects]
        if picked:
            return picked[:PROBES]
        try:
            with self._graph.retry_budget(NARROW_RETRY_S):
                listing = self._graph.iter_messages(None, select=("id",), top=PROBES + 10)
                ids = [str(m.get("id") or "") for m in islice(listing, PROBES + 10)]
        except GraphAuthError:
            raise
        except GraphError:
            return []
        return [gid for gid in ids if gid and gid not in suspects][:PROBES]

    def facts_of(self, graph_id: str) -> MailFacts:
        """What Graph still tells of a mail it cannot serve in full (one try; may be
        nothing)."""
        try:
            with self._graph.retry_budget(0.0):
                return MailFacts.of(self._graph.get_message(graph_id, select=FACTS_SELECT))
        except GraphAuthError:
            raise
        except GraphError:
            return MailFacts()
