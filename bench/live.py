"""The live part of a run, once the services are up: the steady arrival, the outbound jobs, the
fetcher killed half-way, and waiting until all of it is done (or stuck)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from bench import measure, outbound
from bench.corpus import BenchMail
from bench.procs import Child
from bench.sim import Simulator
from bench.steady import SteadySeeder
from bench.takeover import takeover_figures

#: The run gives up when no mail has been deleted (or job sent) for this long.
STALL_TIMEOUT_S = 120.0
QUARANTINE = "mailpipe-quarantine"


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _drained(sim: Simulator, expected: dict[str, int]) -> tuple[bool, int]:
    """Whether every inbox is empty with all its mail deleted (or quarantined); deleted so far."""
    done, deleted = True, 0
    for box, count in expected.items():
        folders = sim.folders(box)
        gone = folders.get(measure.DELETED, 0)
        deleted += gone
        if folders.get("inbox", 0) or gone + folders.get(QUARANTINE, 0) < count:
            done = False
    return done, deleted


def wait_for_drain(
    sim: Simulator, expected: dict[str, int], services: list[Child], now: Callable[[], float]
) -> bool:
    """Poll the mailboxes until drained; ``False`` when stalled or a service died (a fetcher
    the run killed on purpose is not counted)."""
    last, last_change, last_say = -1, now(), 0.0
    while True:
        done, deleted = _drained(sim, expected)
        if done:
            return True
        if deleted != last:
            last, last_change = deleted, now()
        dead = [c.name for c in services if not c.alive]
        if dead or now() - last_change > STALL_TIMEOUT_S:
            say(f"stopped waiting: {'exited: ' + ', '.join(dead) if dead else 'no progress'}")
            return False
        if now() - last_say >= 5:
            say(f"{deleted} of {sum(expected.values())} deleted")
            last_say = now()
        time.sleep(0.25)


class Live:
    """What happens while the services run; ``figures()`` adds its results to the report."""

    def __init__(
        self,
        opts: Any,
        sim: Simulator,
        boxes: list[str],
        namespace: str,
        services: dict[str, list[Child]],
    ) -> None:
        self.opts, self.sim, self.boxes, self.namespace = opts, sim, boxes, namespace
        self.services = services
        self.seeder: SteadySeeder | None = None
        self.tag = outbound.new_tag()
        self.killed: Child | None = None
        self.killed_at: float | None = None
        self.jobs_done = True

    @property
    def seeded(self) -> list[measure.Seeded]:
        return list(self.seeder.seeded) if self.seeder else []

    def begin(self, corpus: list[tuple[str, BenchMail]]) -> Live:
        if self.opts.steady_rate:
            self.seeder = SteadySeeder(self.sim, corpus, self.opts.steady_rate)
            self.seeder.start(lambda n: say(f"{n} mails arrived"))
        if self.opts.jobs:
            jobs = outbound.make_jobs(self.opts.jobs, self.boxes, self.tag)
            outbound.publish_jobs(self.opts.amqp_url, self.namespace, jobs)
            say(f"published {len(jobs)} outbound jobs")
        if self.opts.kill_fetcher_after_s is not None:
            threading.Thread(target=self._kill_later, daemon=True).start()
        return self

    def _kill_later(self) -> None:
        time.sleep(self.opts.kill_fetcher_after_s)
        self.killed = self.services["fetcher"][0]
        self.killed.proc.send_signal(signal.SIGKILL)
        self.killed_at = time.time()
        say(f"killed {self.killed.name}")

    def finish(self, backlog: list[measure.Seeded], every: list[Child]) -> bool:
        """Wait for the arrival to end, the mail to drain and the jobs to go out."""
        if self.seeder is not None and not self._wait_seeder(every):
            return False
        mails = self.seeded or backlog
        expected = {box: sum(1 for s in mails if s.mailbox == box) for box in self.boxes}
        drained = wait_for_drain(self.sim, expected, self._watched(every), time.monotonic)
        if self.opts.jobs:
            self.jobs_done = outbound.wait_for_jobs(
                self._count_sent, self.opts.jobs, STALL_TIMEOUT_S, say
            )
        return drained and self.jobs_done

    def _watched(self, every: list[Child]) -> list[Child]:
        kill_planned = self.opts.kill_fetcher_after_s is not None
        first_fetcher = self.services["fetcher"][0]
        return [c for c in every if not (kill_planned and c is first_fetcher)]

    def _wait_seeder(self, every: list[Child]) -> bool:
        assert self.seeder is not None
        while not self.seeder.done:
            dead = [c.name for c in self._watched(every) if not c.alive]
            if dead:
                say(f"stopped the arrival: exited: {', '.join(dead)}")
                self.seeder.stop()
                return False
            time.sleep(0.5)
        if self.seeder.error is not None:
            raise RuntimeError(f"seeding failed: {self.seeder.error!r}")
        return True

    def _count_sent(self) -> int:
        return sum(len(v) for v in outbound.sent_jobs(self.sim, self.boxes, self.tag).values())

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": "steady" if self.opts.steady_rate else "backlog",
            "fetchers": self.opts.fetchers,
            "senders": self.opts.senders,
            "poll_interval_s": self.opts.poll_interval_s,
            "mailboxes_polled": len(self.boxes),
        }
        if self.opts.steady_rate:
            out |= {"steady_rate_per_s": self.opts.steady_rate, "duration_s": self.opts.duration_s}
        if self.opts.jobs:
            sent = outbound.sent_jobs(self.sim, self.boxes, self.tag)
            out |= outbound.job_figures(sent, self.opts.jobs)
        if self.killed_at is not None:
            survivors = [c.log_path for c in self.services["fetcher"] if c is not self.killed]
            out["fetcher_killed_at"] = self.killed_at
            out |= takeover_figures(survivors, self.killed_at)
        return out
