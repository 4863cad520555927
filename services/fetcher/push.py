"""The subscription keeper (docs/push.md): a change subscription per pushed mailbox this
fetcher polls, created once its lease is taken, renewed at half the lifetime Graph granted is
left (the lifetime asked for: :mod:`services.fetcher.push_lifetime`), looked up once per
safety interval, recreated when Graph removed it, deleted when the mailbox is no longer ours.
A renewal or reauthorization that fails is tried again after a backoff, not on every pass.

All Graph calls run on the keeper's own thread (:meth:`SubscriptionKeeper.run`); a hint asks
the schedule for a round at once and, for a lifecycle event, marks what the keeper does next.
While a subscription lives the poll interval is the safety interval; when subscribing fails
the mailbox is polled as before and the health line says why.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog

from libs.common.contracts import MailboxChanged
from libs.common.mail import Mailbox, MailError, MailNotFound, Subscription
from libs.common.push_settings import PushConfig
from services.fetcher import push_metrics as metrics
from services.fetcher.domain.push import renew_at, retry_in
from services.fetcher.push_lifetime import Lifetimes
from services.fetcher.quarantine import error_line

log = structlog.get_logger("services.fetcher")

#: How often the keeper looks at its mailboxes (a hint's lifecycle event wakes it sooner).
TICK_S = 5.0


class SubscriptionBook(Protocol):
    """Where the endpoint finds the subscriptions (``PushSubscriptionStore``)."""

    def save(
        self, subscription_id: str, mailbox: str, client_state: str, expires: datetime
    ) -> None: ...
    def renewed(self, subscription_id: str, expires: datetime) -> None: ...
    def forget(self, subscription_id: str) -> None: ...


@dataclass
class Kept:
    """One mailbox's subscription as the keeper holds it."""

    folder: str
    subscription_id: str | None = None
    renew_at: datetime | None = None
    #: Failures in a row of the call due (subscribe, renew, reauthorize) and when it is
    #: tried again (monotonic seconds).
    failures: int = 0
    retry_at: float = 0.0
    #: When Graph was last asked whether the subscription still exists (monotonic seconds).
    checked_at: float = 0.0
    #: Set by a lifecycle hint, done by the keeper's next pass.
    recreate: bool = False
    reauthorize: bool = False
    problem: str = ""
    #: Whether a hint waits for a round, so the next round answers it (a hinted turn runs
    #: none while the mailbox's lease is rechecked).
    hint_open: bool = False


class SubscriptionKeeper:
    def __init__(
        self,
        push: PushConfig,
        mailbox: Callable[[str], Mailbox],
        book: SubscriptionBook,
        held: Callable[[str], bool],
        hurry: Callable[[str], None],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        self.push, self._mailbox, self._book = push, mailbox, book
        self._held, self._hurry, self._clock, self._ticks = held, hurry, clock, ticks
        self.kept: dict[str, Kept] = {}
        self.lifetimes = Lifetimes()
        self._lock = threading.Lock()
        self.wake = threading.Event()
        #: Mailboxes no longer pushed: their subscriptions end on the next pass.
        self._gone: list[str] = []

    def use(self, push: PushConfig | None, folders: dict[str, str]) -> None:
        """The pushed mailboxes (address → folder) from now on; others are dropped next pass."""
        with self._lock:
            if push is not None:
                self.push = push
            wanted = {a: f for a, f in folders.items() if push is not None and push.covers(a)}
            for address, folder in wanted.items():
                kept = self.kept.setdefault(address, Kept(folder))
                if kept.folder != folder:  # the subscription watches the old folder: moved
                    kept.folder, kept.recreate = folder, True
            self._gone = [a for a in self.kept if a not in wanted]
        self.wake.set()

    # -- what the pollers and the hints ask --------------------------------------------------

    def interval(self, address: str, normal_s: float) -> float:
        """The mailbox's poll interval: the safety interval while its subscription lives.
        Asked after a turn that held the lease, so its round answered any open hint."""
        kept = self.kept.get(address)
        if kept is not None:
            kept.hint_open = False
        alive = kept is not None and kept.subscription_id is not None
        return max(normal_s, self.push.safety_interval_s) if alive else normal_s

    def on_hint(self, hint: MailboxChanged) -> None:
        kept = self.kept.get(hint.mailbox)
        if kept is None:
            return  # not a mailbox this fetcher pushes
        metrics.HINTS_HEARD.labels(hint.mailbox, hint.reason).inc()
        if hint.subscription_id == kept.subscription_id:
            kept.recreate |= hint.reason == "removed"
            kept.retry_at = 0.0 if hint.reason == "removed" else kept.retry_at
            kept.reauthorize |= hint.reason == "reauthorize"
            if hint.reason in ("removed", "reauthorize"):
                self.wake.set()
        if hint.reason != "reauthorize":
            self._hurry(hint.mailbox)

    def turn_started(self, address: str, hinted: bool) -> None:
        kept = self.kept.get(address)
        if kept is not None and hinted:
            kept.hint_open = True
            metrics.HINT_ROUNDS.labels(address).inc()

    def published(self, address: str, count: int) -> None:
        """Mails a round published: a safety round's, while push was alive, were missed."""
        kept = self.kept.get(address)
        if kept is not None and kept.subscription_id is not None and not kept.hint_open:
            metrics.SAFETY_FINDS.labels(address).inc(count)

    def status(self, address: str) -> str:
        """One line for the health check: push alive, or why not."""
        kept = self.kept.get(address)
        if kept is None:
            return "polled only"
        return "push alive" if kept.subscription_id else (kept.problem or "push starting")

    # -- the keeper's thread ----------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.tend()
            self.wake.wait(TICK_S)
            self.wake.clear()
        self.drop_all()

    def tend(self) -> None:
        """One pass: every mailbox's subscription made, renewed or dropped as due."""
        with self._lock:
            gone = [(a, self.kept.pop(a, None)) for a in self._gone]
            work, self._gone = list(self.kept.items()), []
        for address, kept in gone:
            self._drop(address, kept)
        for address, kept in work:
            try:
                self._tend_one(address, kept)
            except Exception:  # the keeper never dies; the mailbox is polled meanwhile
                log.exception("push keeper failed", mailbox=address)

    def _tend_one(self, address: str, kept: Kept) -> None:
        if not self._held(address):
            self._drop(address, kept)
        elif kept.subscription_id is None or kept.recreate:
            if self._ticks() >= kept.retry_at:
                self._subscribe(address, kept)
        elif self._ticks() < kept.retry_at:
            return  # a renewal or reauthorization failed: not again before its backoff
        elif kept.reauthorize:
            self._call(address, kept, "reauthorize")
        elif kept.renew_at is not None and self._clock() >= kept.renew_at:
            self._call(address, kept, "renew")
        elif self._ticks() >= kept.checked_at + self.push.safety_interval_s:
            self._check(address, kept)

    def _subscribe(self, address: str, kept: Kept) -> None:
        self._forget(address, kept, unsubscribe=kept.subscription_id is not None)
        state = secrets.token_urlsafe(32)
        graph = self._mailbox(address)
        try:
            sub = self.lifetimes.ask(
                self._clock(),
                lambda expires_at: graph.subscribe(
                    kept.folder,
                    notification_url=self.push.notification_url,
                    lifecycle_url=self.push.lifecycle_url,
                    client_state=state,
                    expires_at=expires_at,
                ),
            )
        except MailError as exc:
            self._failed(address, kept, "subscribe", exc)
            return
        self._book.save(sub.id, address, state, sub.expires_at)
        kept.subscription_id, kept.renew_at = sub.id, renew_at(self._clock(), sub.expires_at)
        kept.failures, kept.retry_at, kept.problem = 0, 0.0, ""
        kept.checked_at = self._ticks()
        metrics.SUBSCRIPTIONS_ALIVE.labels(address).set(1)
        log.info(
            "push subscription created", mailbox=address, expires_at=sub.expires_at.isoformat()
        )
        self._hurry(address)  # mail that came while there was none is read now

    def _call(self, address: str, kept: Kept, call: str) -> None:
        sub_id = kept.subscription_id or ""
        graph = self._mailbox(address)
        sub: Subscription | None = None
        try:
            if call == "reauthorize":
                graph.reauthorize(sub_id)
                kept.reauthorize = False
            else:
                sub = self.lifetimes.ask(self._clock(), lambda when: graph.renew(sub_id, when))
        except MailNotFound:  # Graph removed it: a new one, and a round for what was missed
            self._subscribe(address, kept)
            return
        except MailError as exc:
            self._backoff(address, kept, call, exc)
            return
        kept.failures, kept.retry_at = 0, 0.0
        if sub is not None:
            self._book.renewed(sub.id, sub.expires_at)
            kept.renew_at = renew_at(self._clock(), sub.expires_at)

    def _backoff(self, address: str, kept: Kept, call: str, exc: MailError) -> None:
        """A renewal or reauthorization failed: tried again after 30 s, doubling up to the
        safety interval (the rest of the lifetime is the margin), never on every pass."""
        kept.failures += 1
        kept.retry_at = self._ticks() + retry_in(kept.failures, self.push.safety_interval_s)
        metrics.SUBSCRIPTION_FAILURES.labels(address, call, exc.code).inc()
        log.warning(
            f"push subscription {call} failed; tried again later",
            mailbox=address,
            error=error_line(exc),
            failures=kept.failures,
        )

    def _check(self, address: str, kept: Kept) -> None:
        """Once per safety interval: does Graph still know the subscription? One removed
        without a lifecycle event reaching us is noticed here and made again."""
        kept.checked_at = self._ticks()
        try:
            self._mailbox(address).subscription(kept.subscription_id or "")
        except MailNotFound:
            metrics.SUBSCRIPTION_FAILURES.labels(address, "check", "not_found").inc()
            log.warning("push subscription gone without notice; made again", mailbox=address)
            self._subscribe(address, kept)
        except MailError as exc:  # asked again next interval; the safety rounds go on
            metrics.SUBSCRIPTION_FAILURES.labels(address, "check", exc.code).inc()

    def _failed(self, address: str, kept: Kept, call: str, exc: MailError) -> None:
        kept.failures += 1
        kept.retry_at = self._ticks() + retry_in(kept.failures, self.push.safety_interval_s)
        problem = f"push off ({exc.code}): {exc.hint or 'the notification URL was not reachable'}"
        metrics.SUBSCRIPTION_FAILURES.labels(address, call, exc.code).inc()
        if problem != kept.problem:
            log.error(
                "push subscription refused; the mailbox is polled as before",
                mailbox=address,
                error=error_line(exc),
                hint=exc.hint,
            )
        kept.problem = problem

    def _drop(self, address: str, kept: Kept | None) -> None:
        if kept is not None and kept.subscription_id is not None:
            self._forget(address, kept, unsubscribe=True)

    def _forget(self, address: str, kept: Kept, *, unsubscribe: bool) -> None:
        """The mailbox's subscription ends here (best effort at Graph: it expires anyway)."""
        sub_id, kept.subscription_id, kept.recreate = kept.subscription_id, None, False
        metrics.SUBSCRIPTIONS_ALIVE.labels(address).set(0)
        if sub_id is None:
            return
        self._book.forget(sub_id)
        if unsubscribe:
            try:
                self._mailbox(address).unsubscribe(sub_id)
            except MailError as exc:
                log.info(
                    "push subscription not deleted; it expires", mailbox=address, code=exc.code
                )

    def drop_all(self) -> None:
        for address, kept in list(self.kept.items()):
            self._drop(address, kept)
