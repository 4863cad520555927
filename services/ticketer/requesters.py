"""Requester enrichment: who a sender is in the tenant (the mail port's user lookup), cached.

It never blocks a record: any failure is logged and the record is made without it. Answers,
"not in the tenant" included, are cached in the store's ``requesters`` table, so a known sender
costs no provider request, and kept in memory for a few minutes, so a recent one costs no
database read either. A permission error (``User.Read.All`` not granted) is logged once per
back-off period with its hint and lookups pause for that period, so a missing permission does
not cost one failing request per new record. A passing failure (the directory unreachable,
throttled, a 5xx) pauses the mailbox's lookups briefly, doubling while it lasts up to that
period: each failing lookup has already waited out the provider client's retries, and without
the pause every new sender's mail would wait that long again. A sender a pause or a failure left
unknown is owed a lookup: :meth:`RequesterDirectory.catch_up` asks again, a few at a time, once
the mailbox's pause is over, so their records' requester profile fills in later (the console
reads it by address).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from libs.common.db import utcnow
from libs.common.errors import MailpipeError
from libs.common.mail import DirectoryUser, MailNotFound
from services.ticketer.ports import RequesterCache
from services.ticketer.store.models import Requester

log = structlog.get_logger(__name__)

#: Fetch one user: (mailbox, address) -> the user's properties. Raises the mail port's errors
#: (``MailNotFound``: no such user in the tenant).
FetchUser = Callable[[str, str], DirectoryUser]

#: Owed senders asked again per batch: each is a provider request the batch waits for before
#: its transaction, so few, and mail keeps its pace while an outage's backlog drains.
CATCH_UP_PER_BATCH = 2


class RequesterDirectory:
    """``lookup(mailbox, address) -> Requester | None``: cached, never raises."""

    def __init__(
        self,
        cache: RequesterCache,
        fetch: FetchUser,
        *,
        ttl: timedelta = timedelta(days=1),
        negative_ttl: timedelta = timedelta(days=7),
        pause_s: float = 600.0,
        retry_pause_s: float = 15.0,
        memory_ttl_s: float = 300.0,
        memory_size: int = 10_000,
        owed_size: int = 10_000,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cache = cache
        self._fetch = fetch
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._pause_s = pause_s
        self._clock = clock
        self._monotonic = monotonic
        self._retry_pause_s = retry_pause_s
        self._paused_until: dict[str, float] = {}
        #: The mailbox's last pause after passing failures: (its length, when it ends).
        self._retry_pauses: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._memory_ttl_s = memory_ttl_s
        self._memory_size = memory_size
        #: Recent answers (address → when, answer): a known sender costs no database read.
        self._memory: OrderedDict[str, tuple[float, Requester]] = OrderedDict()
        self._stripes = [threading.Lock() for _ in range(64)]
        #: Senders left unknown by a pause or a failure, oldest first:
        #: address (lower case) → (mailbox, the address as the mail gave it).
        self._owed: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._owed_size = owed_size

    def __call__(self, mailbox: str, address: str) -> Requester | None:
        recent = self._recall(address)
        if recent is not None:
            return recent
        # One lookup per address at a time: two batches with mail from the same new sender
        # ask the provider once, the second finds the first's answer.
        with self._stripes[hash(address.lower()) % len(self._stripes)]:
            recent = self._recall(address)
            return recent if recent is not None else self._look_up(mailbox, address)

    def _look_up(self, mailbox: str, address: str) -> Requester | None:
        try:
            cached = self._cache.get_requester(address)
        except MailpipeError as exc:
            log.warning("requester cache unavailable", error=str(exc))
            cached = None
        if cached is not None and self._fresh(cached):
            return self._remember(cached)
        if self._paused(mailbox):
            self._owe(mailbox, address)
            return cached
        started = self._monotonic()
        try:
            found = self._ask(mailbox, address)
        except MailpipeError as exc:
            return self._failed(mailbox, address, exc, cached, started)
        except Exception as exc:  # enrichment must never stop a record
            log.warning("requester lookup failed", error=exc.__class__.__name__)
            return cached
        with self._lock:
            self._retry_pauses.pop(mailbox, None)
            self._owed.pop(address.lower(), None)
        try:
            self._cache.put_requester(found)
        except MailpipeError as exc:
            log.warning("requester cache not updated", error=str(exc))
        return self._remember(found)

    def catch_up(self, limit: int = CATCH_UP_PER_BATCH) -> int:
        """Ask again for up to ``limit`` owed senders whose mailbox is no longer paused; how
        many were answered. One that fails again is owed again (and pauses its mailbox)."""
        answered = 0
        for mailbox, address in self._due(limit):
            if self(mailbox, address) is not None:
                answered += 1
        if answered:
            log.info("requester lookups caught up", answered=answered)
        return answered

    def owed(self) -> int:
        """How many senders are owed a lookup."""
        with self._lock:
            return len(self._owed)

    def _due(self, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` owed senders of unpaused mailboxes, (mailbox, address), taken off
        the list."""
        with self._lock:
            if not self._owed:
                return []
            now = self._monotonic()
            due = [
                (key, owed)
                for key, owed in self._owed.items()
                if self._paused_until.get(owed[0], float("-inf")) <= now
            ][:limit]
            for key, _ in due:
                del self._owed[key]
        return [owed for _, owed in due]

    def _owe(self, mailbox: str, address: str) -> None:
        with self._lock:
            self._owed[address.lower()] = (mailbox, address)
            self._owed.move_to_end(address.lower())
            while len(self._owed) > self._owed_size:
                self._owed.popitem(last=False)

    def _recall(self, address: str) -> Requester | None:
        key = address.lower()
        with self._lock:
            entry = self._memory.get(key)
            if entry is None:
                return None
            if self._monotonic() - entry[0] >= self._memory_ttl_s:
                del self._memory[key]
                return None
            self._memory.move_to_end(key)
            return entry[1]

    def _remember(self, requester: Requester) -> Requester:
        with self._lock:
            self._memory[requester.address.lower()] = (self._monotonic(), requester)
            self._memory.move_to_end(requester.address.lower())
            while len(self._memory) > self._memory_size:
                self._memory.popitem(last=False)
        return requester

    def _ask(self, mailbox: str, address: str) -> Requester:
        now = self._clock()
        try:
            user = self._fetch(mailbox, address)
        except MailNotFound:
            return Requester(address=address.lower(), fetched_at=now, in_tenant=False)
        return Requester(
            address=address.lower(),
            fetched_at=now,
            name=user.display_name or "",
            display_name=user.display_name,
            job_title=user.job_title,
            department=user.department,
            in_tenant=True,
        )

    def _failed(
        self,
        mailbox: str,
        address: str,
        exc: MailpipeError,
        cached: Requester | None,
        started: float,
    ) -> Requester | None:
        self._owe(mailbox, address)
        # Refused (no permission, a bad credential: 401 and 403 are never retryable) or wrong.
        if not exc.retryable:
            self._pause_until(mailbox, self._monotonic() + self._pause_s)
            log.warning(
                "requester lookup refused; pausing lookups for this mailbox",
                mailbox=mailbox,
                error=exc.message,
                code=exc.code,
                hint=exc.hint or "grant the app User.Read.All (or User.ReadBasic.All)",
                pause_s=self._pause_s,
            )
        else:
            pause = self._pause_after_passing_failure(mailbox, started)
            log.info(
                "requester lookup failed; record made without it",
                mailbox=mailbox,
                error=exc.message,
                pause_s=pause,
            )
        return cached

    def _pause_after_passing_failure(self, mailbox: str, started: float) -> float:
        """15 s at first; doubled when lookups fail again right after a pause ends; back to
        15 s when the last pause ended long ago. A lookup that began before the current pause
        was set saw the same outage and changes nothing (concurrent lookups would otherwise
        double it at once)."""
        now = self._monotonic()
        with self._lock:
            step, until = self._retry_pauses.get(mailbox, (0.0, float("-inf")))
            if started < until:
                return step
            step = min(step * 2, self._pause_s) if now - until <= step else self._retry_pause_s
            self._retry_pauses[mailbox] = (step, now + step)
        self._pause_until(mailbox, now + step)
        return step

    def _pause_until(self, mailbox: str, until: float) -> None:
        # Never shortens a pause: a passing failure must not end the permission pause early.
        with self._lock:
            self._paused_until[mailbox] = max(self._paused_until.get(mailbox, until), until)

    def _paused(self, mailbox: str) -> bool:
        with self._lock:
            until = self._paused_until.get(mailbox)
        return until is not None and self._monotonic() < until

    def _fresh(self, requester: Requester) -> bool:
        ttl = self._ttl if requester.in_tenant else self._negative_ttl
        return self._clock() - requester.fetched_at < ttl
