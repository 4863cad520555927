"""Keeping a job's claim while it is in hand, and logging a send that Graph accepted.

Two ways a job could otherwise go out twice (docs/sending.md, "The duplicate window"):
a live claim that looks stale because Graph's retries or the rate limit held it past the
stale time (another sender would take it over), and a send that Graph accepted but the job
log could not record. The heartbeat keeps the first from happening; ``log_sent`` retries the
second locally and otherwise leaves the claim for the Sent Items check of the next attempt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

import structlog

from libs.common.errors import RetryableError

log = structlog.get_logger("services.sender")

#: Waits between the attempts to log a send Graph accepted (then the job is retried).
LOG_SENT_BACKOFF_S: tuple[float, ...] = (0.2, 1.0, 3.0)


class ClaimLost(RetryableError):
    """The job's claim is no longer this attempt's (a sender took it over): nothing is sent."""

    code = "claim_lost"


class SentNotLogged(RetryableError):
    """Graph accepted the message but the job log could not record it; the next attempt
    finds the message in Sent Items and logs it without sending again."""

    code = "sent_not_logged"


class Heartbeat:
    """Refreshes the claim every ``interval_s`` on a small thread while the job is in hand.

    ``beat()`` returns False when the claim is no longer ours; ``lost`` then turns True and
    the handler sends nothing. A failing beat (database down) is logged and tried again.
    """

    def __init__(self, beat: Callable[[], bool], interval_s: float) -> None:
        self._beat = beat
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sender-heartbeat", daemon=True)
        self.lost = False

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def check(self) -> None:
        """Raise :class:`ClaimLost` when another sender has the job (call before sending)."""
        if self.lost:
            raise ClaimLost("the job's claim was taken over by another sender; not sent here")

    def confirm(self) -> None:
        """Refresh now and raise :class:`ClaimLost` when the claim is gone (after a wait)."""
        self._beat_once()
        self.check()

    def _run(self) -> None:
        while not self.lost and not self._stop.wait(self._interval_s):
            self._beat_once()

    def _beat_once(self) -> None:
        try:
            alive = self._beat()
        except Exception as exc:  # the next beat may get through; the claim is not lost
            log.warning("could not refresh the job's claim", error=type(exc).__name__)
            return
        if not alive and not self.lost:
            self.lost = True
            log.warning("the job's claim was taken over; this sender will not send it")


def log_sent(mark: Callable[[], object], sleep: Callable[[float], None]) -> None:
    """Run ``mark`` (the job log's ``mark_sent``), retrying a retryable failure a few times.

    Still failing: :class:`SentNotLogged`, and the claim is left as it is (``sending``).
    """
    for wait in (*LOG_SENT_BACKOFF_S, None):
        try:
            mark()
            return
        except RetryableError as exc:
            if wait is None:
                raise SentNotLogged(
                    f"sent, but the job log could not record it ({exc.code})",
                    hint="check the database; the job is retried and found in Sent Items",
                ) from exc
            log.warning("could not log a sent job; retrying", error=exc.code, wait_s=wait)
            sleep(wait)
