"""Gmail's per-user quota: units per second (250 at Google), each method its cost.

One :class:`UserQuota` per user and API root in the process, shared by every adapter object
of that user, so the limit holds for the process and not per object. Callers wait for room
rather than earn a 429.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Quota units per method (Google's table); what is not listed costs 5.
COSTS = {
    "profile": 1,
    "labels.list": 1,
    "labels.get": 1,
    "labels.create": 5,
    "history.list": 2,
    "messages.list": 5,
    "messages.get": 5,
    "messages.trash": 5,
    "messages.modify": 5,
    "messages.batchModify": 50,
    "messages.send": 100,
    "upload.chunk": 0,
    "upload.status": 0,
    "sendAs.list": 1,
}


#: The window, with a margin for the time a request takes to reach Google: its window starts
#: when the request arrives, ours when it leaves.
WINDOW_S = 1.1


def cost(method: str) -> int:
    return COSTS.get(method, 5)


class UserQuota:
    """At most ``units_per_s`` units in any one-second window, ``max_concurrency`` in flight."""

    def __init__(
        self,
        units_per_s: int,
        max_concurrency: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.units_per_s = units_per_s
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._spent: deque[tuple[float, int]] = deque()
        self._clock = clock
        self._lock = threading.Lock()

    def _try_spend(self, units: int) -> float:
        """Spend ``units`` and return 0, or return how long to wait first."""
        with self._lock:
            now = self._clock()
            while self._spent and self._spent[0][0] <= now - WINDOW_S:
                self._spent.popleft()
            used = sum(u for _, u in self._spent)
            # A call dearer than the whole window still goes, alone in its window.
            if used + units <= self.units_per_s or not self._spent:
                self._spent.append((now, units))
                return 0.0
            return max(self._spent[0][0] + WINDOW_S - now, 0.001)

    @contextmanager
    def call(self, units: int, sleep: Callable[[float], None] = time.sleep) -> Iterator[None]:
        """Hold a slot for one HTTP exchange that spends ``units``."""
        while (wait := self._try_spend(units)) > 0:
            sleep(wait)
        with self._slots:
            yield


_quotas: dict[tuple[str, str], UserQuota] = {}
_quotas_lock = threading.Lock()


def quota_for(api_url: str, user: str, units_per_s: int, max_concurrency: int) -> UserQuota:
    key = (api_url, user.lower())
    with _quotas_lock:
        quota = _quotas.get(key)
        if quota is None:
            quota = _quotas[key] = UserQuota(units_per_s, max_concurrency)
        return quota
