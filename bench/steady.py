"""Steady arrival: mail posted to the simulator at a fixed rate while the services run, spread
round-robin over the mailboxes, the way a helpdesk provider's mail arrives (not a backlog).

The seeder runs in a thread of its own and keeps its schedule from the start time, so a slow
post is caught up by the next ones instead of lowering the rate for the rest of the run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.corpus import BenchMail
from bench.measure import Seeded
from bench.sim import Simulator


@dataclass
class SteadySeeder:
    sim: Simulator
    mails: list[tuple[str, BenchMail]]
    rate_per_s: float
    seeded: list[Seeded] = field(default_factory=list)
    error: BaseException | None = None
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self, progress: Callable[[int], None]) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(progress,), name="steady-seeder", daemon=True
        )
        self._thread.start()

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self, progress: Callable[[int], None]) -> None:
        try:
            with self.sim.client() as client:
                started = time.monotonic()
                for n, (box, mail) in enumerate(self.mails):
                    due = started + n / self.rate_per_s
                    if self._stop.wait(max(0.0, due - time.monotonic())):
                        return
                    self.seeded.append(Seeded(*self.sim.post(client, box, mail)))
                    if (n + 1) % 500 == 0:
                        progress(n + 1)
        except BaseException as exc:  # reported by the run, which stops waiting
            self.error = exc
