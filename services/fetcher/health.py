"""Each mailbox's health, recorded in the shared database for the console (docs/fetcher.md,
"What it records").

The pollers tell a :class:`HealthRecorder` how each round ended (:meth:`~HealthRecorder.success`,
:meth:`~HealthRecorder.failure`, :meth:`~HealthRecorder.waiting`); that only changes memory. A
loop of its own (:meth:`~HealthRecorder.run`) writes, about once a second, in one transaction,
the mailboxes whose state changed or whose last write is older than their poll interval: a
thousand mailboxes at 30 s cost one statement per mailbox every 30 s, not one per round.

A database that does not answer never stops a poll: the write is logged (once per outage) and
tried again at the next flush, the rows still pending.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import structlog

from libs.common.db import utcnow
from libs.common.db.mailbox_health import MailboxHealth

log = structlog.get_logger("services.fetcher")

#: How often the changed rows are written.
FLUSH_S = 1.0


class HealthSink(Protocol):
    def save(self, rows: Iterable[MailboxHealth]) -> int: ...


@dataclass
class _Entry:
    row: MailboxHealth
    refresh_s: float
    #: Something but the timestamps changed since the last write.
    changed: bool = True
    #: When the row was last written (monotonic seconds); ``None``: never.
    written_at: float | None = None


class HealthRecorder:
    def __init__(
        self,
        sink: HealthSink,
        *,
        clock: Callable[[], datetime] = utcnow,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self._clock = clock
        self._ticks = ticks
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        #: The database failed at the last flush (logged once until it answers again).
        self.failing = False

    def success(self, address: str, refresh_s: float, *, waiting: int = 0) -> None:
        """A round that read the folder to its end (``waiting``: mails left for next round)."""
        self._note(
            address,
            refresh_s,
            last_success_at=self._clock(),
            error_code=None,
            error_kind=None,
            error_hint=None,
            consecutive_errors=0,
            waiting=waiting,
        )

    def waiting(self, address: str, refresh_s: float, waiting: int) -> None:
        """A round that read the folder but could not publish ``waiting`` mails."""
        self._note(address, refresh_s, waiting=waiting)

    def failure(
        self, address: str, refresh_s: float, code: str, hint: str | None, kind: str
    ) -> None:
        """A round that failed with a typed error's ``code`` and one-line ``hint``; ``kind``
        is ``credential`` (refused), ``permanent`` or ``transient``."""
        with self._lock:
            before = self._entry(address, refresh_s).row.consecutive_errors
        self._note(
            address,
            refresh_s,
            last_error_at=self._clock(),
            error_code=code,
            error_kind=kind,
            error_hint=hint,
            consecutive_errors=before + 1,
        )

    def forget(self, address: str) -> None:
        """Another fetcher polls the mailbox now: its rows are that fetcher's to write (this
        one's would overwrite them with older news)."""
        with self._lock:
            self._entries.pop(address, None)

    def _entry(self, address: str, refresh_s: float) -> _Entry:
        entry = self._entries.get(address)
        if entry is None:
            entry = self._entries[address] = _Entry(MailboxHealth(address), refresh_s)
        return entry

    def _note(self, address: str, refresh_s: float, **changes: object) -> None:
        with self._lock:
            entry = self._entry(address, refresh_s)
            new = replace(entry.row, **changes)  # type: ignore[arg-type]
            entry.changed |= _meaning(new) != _meaning(entry.row)
            entry.row, entry.refresh_s = new, refresh_s

    def due(self) -> list[MailboxHealth]:
        """The rows to write now: changed, or last written longer ago than their interval."""
        now = self._ticks()
        with self._lock:
            return [
                e.row
                for e in self._entries.values()
                if e.changed or e.written_at is None or now - e.written_at >= e.refresh_s
            ]

    def flush(self) -> int:
        """Write the due rows; how many. Never raises: a failure is logged, rows stay due."""
        rows = self.due()
        if not rows:
            return 0
        try:
            self._sink.save(rows)
        except Exception as exc:  # a database outage must not stop polling
            if not self.failing:
                log.warning("mailbox health not recorded", error=type(exc).__name__, rows=len(rows))
            self.failing = True
            return 0
        if self.failing:
            log.info("mailbox health recorded again", rows=len(rows))
        self.failing = False
        self._written(rows)
        return len(rows)

    def _written(self, rows: list[MailboxHealth]) -> None:
        now = self._ticks()
        with self._lock:
            for row in rows:
                entry = self._entries.get(row.mailbox)
                if entry is None:  # forgotten during the write
                    continue
                entry.written_at = now
                # A change noted during the write keeps the row due.
                entry.changed = _meaning(entry.row) != _meaning(row)

    def run(self, stop: threading.Event, every_s: float = FLUSH_S) -> None:
        """Flush every ``every_s`` until ``stop``, then once more."""
        while not stop.wait(every_s):
            self.flush()
        self.flush()


def _meaning(row: MailboxHealth) -> tuple[object, ...]:
    """What a change of is worth a write at once (the timestamps alone are not)."""
    return (row.error_code, row.error_kind, row.error_hint, row.consecutive_errors, row.waiting)
