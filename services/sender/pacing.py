"""Holding a claimed job for its mailbox's send slot, however long that takes.

The job waits here, in the handler, with its claim's heartbeat running: it never goes
through the retry tiers for waiting, so it can neither run out of them nor be dead-lettered.
A database that cannot be reached while the slot is asked for (restarting, a connection cut)
is asked again with backoff: the claim is still this sender's, and no retry would find it
"in progress" and wait for it to go stale (docs/sending.md, "Sending rate"). A sender told
to stop gives the job back to the queue instead of holding it to the end of its wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import structlog

from libs.common.broker.policy import backoff_s
from libs.common.db.errors import StoreUnavailable
from libs.common.errors import HandBack
from services.sender import metrics
from services.sender.claim import Heartbeat
from services.sender.domain.rate import RateLimit
from services.sender.sendrate import SendSlotsPort

log = structlog.get_logger("services.sender")

#: Longest pause between two asks while the database does not answer.
DB_BACKOFF_CAP_S = 5.0


class Stop(Protocol):
    """The service's stop event (``threading.Event``): waiting on it is how the job waits."""

    def wait(self, timeout: float | None = None) -> bool: ...


class SenderStopping(HandBack):
    """The sender is stopping while the job waits for its slot: the job goes back to the
    queue untried, for another sender (or this one, restarted)."""

    code = "sender_stopping"


class Pacer:
    """Takes send slots for the handler, waiting as long as the shared rate requires."""

    def __init__(self, slots: SendSlotsPort, rate: RateLimit, stop: Stop) -> None:
        self.slots = slots
        self.rate = rate
        self.stop = stop

    @contextmanager
    def slot(self, mailbox: str, heart: Heartbeat) -> Iterator[None]:
        """Hold until ``mailbox`` may send, then run the block (the send) in its slot; the
        slot is stamped when the block ends, sent or not (a failed send may have gone out)."""
        slot_id = self._take(mailbox, heart)
        try:
            yield
        finally:
            self._stamp(slot_id)

    def _take(self, mailbox: str, heart: Heartbeat) -> int:
        waited = False
        failures = 0
        slot_id: int | None = None
        while slot_id is None:
            self._pause(0.0)
            try:
                answer = self.slots.take(mailbox, self.rate)
            except StoreUnavailable as exc:
                failures += 1
                delay = backoff_s(failures, cap_s=DB_BACKOFF_CAP_S)
                log.warning("no send slot: database unavailable", error=exc.code, wait_s=delay)
                self._pause(delay)
                waited = True
                continue
            failures = 0
            slot_id = answer.slot_id
            if slot_id is not None:
                break
            metrics.RATE_LIMIT_WAITS.inc()
            metrics.RATE_LIMIT_WAIT_SECONDS.inc(answer.wait_s)
            log.debug("holding the send for the mailbox's rate", wait_s=round(answer.wait_s, 3))
            self._pause(answer.wait_s)
            waited = True
        if waited:
            # Taken over while waiting (the database out of reach past the stale time)?
            heart.confirm()
        heart.check()
        return slot_id

    def _pause(self, seconds: float) -> None:
        """Wait ``seconds``; give the job back at once when the sender is told to stop."""
        if self.stop.wait(seconds):
            raise SenderStopping("the sender is stopping; the job goes back to the queue")

    def _stamp(self, slot_id: int) -> None:
        try:
            self.slots.stamp(slot_id)
        except StoreUnavailable as exc:
            # The send is done: its slot keeps the time it was taken (a little early).
            log.warning("could not stamp the end of a send on its slot", error=exc.code)
