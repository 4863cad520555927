"""Outbound jobs for a run: published as another system would (``OutboundEmail`` on the
broker), spread over the mailboxes, and measured from the simulator's sent mail: how many went
out, how fast, and the busiest window of any one mailbox (Exchange allows 30 a minute)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from bench import measure
from bench.sim import Simulator
from libs.common.broker import Broker, Names
from libs.common.contracts import OutboundEmail

#: Exchange's sending window: the figure the run reports per mailbox.
RATE_WINDOW_S = 60.0


def make_jobs(count: int, mailboxes: list[str], tag: str) -> list[OutboundEmail]:
    """``count`` jobs round-robin over ``mailboxes``; ``tag`` makes their subjects findable."""
    return [
        OutboundEmail.model_validate(
            {
                "job_id": f"bench-{tag}-{n}",
                "mailbox": mailboxes[n % len(mailboxes)],
                "to": [{"address": f"customer{n}@example.org"}],
                "subject": f"[bench job {tag} {n}] Your request",
                "text": f"Hello,\n\nthis is answer {n} of the benchmark.\n",
            }
        )
        for n in range(count)
    ]


def publish_jobs(amqp_url: str, namespace: str, jobs: list[OutboundEmail]) -> None:
    broker = Broker(amqp_url, Names(namespace))
    try:
        for job in jobs:
            broker.publish_routed(job, correlation_id=job.job_id)
    finally:
        broker.close()


def sent_jobs(sim: Simulator, mailboxes: list[str], tag: str) -> dict[str, list[dict[str, Any]]]:
    """The simulator's sent mail of this run's jobs, per mailbox."""
    marker = f"[bench job {tag} "
    return {box: [m for m in sim.sent(box) if marker in m["subject"]] for box in mailboxes}


def wait_for_jobs(
    count_sent: Callable[[], int], total: int, stall_s: float, say: Callable[[str], None]
) -> bool:
    """Until ``total`` jobs were sent; ``False`` when none went out for ``stall_s``."""
    last, last_change, last_say = -1, time.monotonic(), 0.0
    while True:
        sent = count_sent()
        if sent >= total:
            return True
        if sent != last:
            last, last_change = sent, time.monotonic()
        if time.monotonic() - last_change > stall_s:
            say(f"stopped waiting for jobs: {sent} of {total} sent")
            return False
        if time.monotonic() - last_say >= 10:
            say(f"{sent} of {total} jobs sent")
            last_say = time.monotonic()
        time.sleep(0.5)


def job_figures(sent: dict[str, list[dict[str, Any]]], total: int) -> dict[str, Any]:
    """The report's outbound figures from the sent mail."""
    times = [float(m["sent_at"]) for box in sent.values() for m in box]
    ids = [m["subject"] for box in sent.values() for m in box]
    elapsed = max(times) - min(times) if len(times) > 1 else None
    return {
        "jobs": total,
        "jobs_sent": len(set(ids)),
        "jobs_sent_twice": len(ids) - len(set(ids)),
        "jobs_per_s": round((len(times) - 1) / elapsed, 2) if elapsed else None,
        "busiest_mailbox_60s": max(
            (
                measure.busiest_window([float(m["sent_at"]) for m in box], RATE_WINDOW_S)
                for box in sent.values()
            ),
            default=0,
        ),
    }


def new_tag() -> str:
    return uuid.uuid4().hex[:8]
