"""Posting change and lifecycle notifications, in the background, with the faults a real
service shows: delay, drops, duplicates and out-of-order delivery (seeded, so reproducible).

Mail changes are noticed under the world's lock (:meth:`Notifier.on_change`) and only queued
there; one sender thread posts them, so no Graph request ever waits for an endpoint.
Notifications for one URL that fall due close together go in one POST, as Graph batches them.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from libs.graphsim.limits import Faults
from libs.graphsim.state import Folder, Mailbox, Message
from libs.graphsim.watch import Subscription, change_item, lifecycle_item

if TYPE_CHECKING:
    from libs.graphsim.world import World

#: Most notifications in one POST.
MAX_BATCH = 100


@dataclass(order=True)
class Pending:
    due: float
    seq: int
    url: str = field(compare=False)
    sub_id: str = field(compare=False)
    item: dict[str, Any] = field(compare=False)
    lifecycle: bool = field(compare=False, default=False)
    attempt: int = field(compare=False, default=0)


class Notifier:
    """The queue of notifications to post and the thread that posts them."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._cond = threading.Condition()
        self._queue: list[Pending] = []
        self._held: list[Pending] = []
        self._held_since = 0.0
        self._seq = itertools.count()
        self._rng = random.Random()
        self._thread: threading.Thread | None = None
        self._stopping = False
        #: Raised by :meth:`clear`: a POST under way when the world was reset is not retried.
        self._generation = 0

    # called under the world's lock ------------------------------------------------------

    def on_change(self, box: Mailbox, change: str, folder: Folder, msg: Message) -> None:
        for sub in list(self._world.subscriptions.values()):
            if sub.alive() and sub.watches(box, folder, change):
                self._submit(sub, change_item(sub, msg, change))

    def lifecycle(self, sub: Subscription, event: str) -> bool:
        """Queue a lifecycle event; ``False`` when the subscription has no lifecycle URL (as
        in Graph, such a subscription gets none)."""
        if not sub.lifecycle_url:
            return False
        with self._cond:
            self._push(Pending(time.monotonic(), next(self._seq), sub.lifecycle_url, sub.id,
                               lifecycle_item(sub, event), lifecycle=True))  # fmt: skip
        return True

    def reseed(self, seed: int | None) -> None:
        with self._cond:
            self._rng = random.Random(seed)

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()
            self._held.clear()
            self._rng = random.Random()
            self._generation += 1

    def _submit(self, sub: Subscription, item: dict[str, Any]) -> None:
        faults, counts = self._world.faults, self._world.stats.notifications
        with self._cond:
            if faults.notify_drop_ratio and self._rng.random() < faults.notify_drop_ratio:
                counts["dropped"] += 1
                return
            copies = 1
            if faults.notify_duplicate_ratio and self._rng.random() < faults.notify_duplicate_ratio:
                counts["duplicated"] += 1
                copies = 2
            for _ in range(copies):
                due = time.monotonic() + self._delay_s(faults)
                pending = Pending(due, next(self._seq), sub.notification_url, sub.id, item)
                if faults.notify_reorder_window > 1:
                    self._hold(pending, faults.notify_reorder_window)
                else:
                    self._push(pending)

    # queue (callers hold _cond) ---------------------------------------------------------

    def _delay_s(self, faults: Faults) -> float:
        low, high = faults.notify_delay_ms, max(faults.notify_delay_ms, faults.notify_delay_max_ms)
        return (self._rng.uniform(low, high) if high > low else low) / 1000

    def _push(self, pending: Pending) -> None:
        heapq.heappush(self._queue, pending)
        self._ensure_thread()
        self._cond.notify_all()

    def _hold(self, pending: Pending, window: int) -> None:
        if not self._held:
            self._held_since = time.monotonic()
        self._held.append(pending)
        if len(self._held) >= window:
            self._release_held()

    def _release_held(self) -> None:
        """Shuffle the window; never in the order it came (the point of the fault)."""
        order = list(self._held)
        self._rng.shuffle(order)
        if len(order) > 1 and order == self._held:
            order.reverse()
        due = max(p.due for p in order)
        for p in order:
            p.due, p.seq = due, next(self._seq)
            self._push(p)
        self._held = []

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(target=self._run, daemon=True, name="graphsim-notify")
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # the sender thread ------------------------------------------------------------------

    def _run(self) -> None:
        with httpx.Client(trust_env=False) as client:
            while (taken := self._next_batch()) is not None:
                generation, batch = taken
                self._deliver(client, generation, batch)

    def _next_batch(self) -> tuple[int, list[Pending]] | None:
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._held and now - self._held_since >= self._hold_s():
                    self._release_held()
                if self._queue and self._queue[0].due <= now:
                    break
                self._cond.wait(self._wait_s(now))
            if self._stopping:
                return None
            # Let what falls due shortly after join this POST.
            self._cond.wait(self._world.faults.notify_batch_ms / 1000)
            return self._generation, self._take(time.monotonic())

    def _hold_s(self) -> float:
        return self._world.faults.notify_reorder_hold_ms / 1000

    def _wait_s(self, now: float) -> float | None:
        waits = [self._queue[0].due - now] if self._queue else []
        if self._held:
            waits.append(self._held_since + self._hold_s() - now)
        return max(0.0, min(waits)) if waits else None

    def _take(self, now: float) -> list[Pending]:
        """Due notifications for the URL of the first one, oldest first."""
        due = [heapq.heappop(self._queue) for _ in range(len(self._queue))]
        key = (due[0].url, due[0].lifecycle)
        batch = [p for p in due if p.due <= now and (p.url, p.lifecycle) == key][:MAX_BATCH]
        taken = {p.seq for p in batch}
        for p in due:
            if p.seq not in taken:
                heapq.heappush(self._queue, p)
        return batch

    def _deliver(self, client: httpx.Client, generation: int, batch: list[Pending]) -> None:
        world = self._world
        with world.lock:
            # A subscription deleted or expired since the change notifies no more.
            subs = world.subscriptions
            batch = [
                p for p in batch if p.lifecycle or (p.sub_id in subs and subs[p.sub_id].alive())
            ]
            faults, counts = world.faults, world.stats.notifications
        if not batch:
            return
        status = _post(client, batch[0].url, [p.item for p in batch], faults.notify_timeout_s)
        with world.lock:
            counts["posts"] += 1
            if status is not None and 200 <= status < 300:
                counts["lifecycle_sent" if batch[0].lifecycle else "sent"] += len(batch)
                return
            counts["failed_deliveries"] += 1
            retryable = status is None or status >= 500
            again = [p for p in batch if retryable and p.attempt < faults.notify_retries]
            counts["undelivered"] += len(batch) - len(again)
        if again:
            self._retry(generation, again, faults)

    def _retry(self, generation: int, batch: list[Pending], faults: Faults) -> None:
        with self._cond:
            if generation != self._generation:
                return
            for p in batch:
                wait_s = faults.notify_retry_ms / 1000 * 2**p.attempt
                p.attempt += 1
                p.due, p.seq = time.monotonic() + wait_s, next(self._seq)
                self._push(p)


def _post(
    client: httpx.Client, url: str, items: list[dict[str, Any]], timeout_s: float
) -> int | None:
    """The endpoint's status, or ``None`` for a timeout or a connection that failed."""
    try:
        resp = client.post(url, json={"value": items}, timeout=timeout_s)
    except httpx.HTTPError:
        return None
    return resp.status_code
