"""``--push``: the run with Graph change notifications (docs/push.md). The simulator posts
notifications over plain http to ``mailpipe notify`` on a free local port (``[push]
allow_http``, the test and benchmark switch), the fetchers subscribe each mailbox, and the
steady arrival starts once every mailbox's subscription is alive, so every measured mail could
be announced. ``--push-drop`` drops that fraction of the change notifications: the safety
round must still read every mail."""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bench.procs import Child
from bench.sim import Simulator

#: How long the fetchers get to subscribe every mailbox (one validation handshake each).
SUBSCRIBE_TIMEOUT_S = 180.0
#: Seeds the simulator's drops: the same run drops the same notifications.
DROP_SEED = 18


@dataclass(frozen=True)
class PushPlan:
    notify_port: int
    safety_interval_s: float
    drop_ratio: float

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.notify_port}"

    def table(self) -> dict[str, Any]:
        """The ``[push]`` table of the services' config."""
        return {
            "public_url": self.public_url,
            "allow_http": True,
            "safety_interval_s": self.safety_interval_s,
        }

    def faults(self) -> dict[str, Any]:
        return {"notify_drop_ratio": self.drop_ratio, "notify_seed": DROP_SEED}


def wait_subscribed(sim: Simulator, mailboxes: int, say: Any) -> None:
    """Until the simulator holds a live subscription per mailbox."""
    deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S
    while True:
        alive = int(sim.stats()["notifications"].get("subscriptions_alive", 0))
        if alive >= mailboxes:
            say(f"push: {alive} subscriptions alive")
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {alive} of {mailboxes} mailboxes subscribed")
        time.sleep(0.5)


def push_figures(
    plan: PushPlan | None, before: dict[str, Any], after: dict[str, Any]
) -> dict[str, Any]:
    """What the simulator counted of notifications during the run (``after - before``), from
    its whole statistics; only the Graph simulator counts notifications, and only a push run
    reads them (the Gmail simulator has none)."""
    if plan is None:
        return {"push": False}
    sent_before, sent_after = before["notifications"], after["notifications"]
    counts = {
        key: int(sent_after.get(key, 0)) - int(sent_before.get(key, 0))
        for key in ("sent", "posts", "dropped", "duplicated", "failed_deliveries")
    }
    return {
        "push": True,
        "safety_interval_s": plan.safety_interval_s,
        "push_drop_ratio": plan.drop_ratio,
        "notifications_sent": counts["sent"],
        "notifications_dropped": counts["dropped"],
        "notification_posts": counts["posts"],
        "notification_failed_deliveries": counts["failed_deliveries"],
    }


#: The services' own counters a push run reports (docs/push.md, "When notifications stop").
RECEIVED = "mailpipe_notify_notifications_total"
SAFETY_FINDS = "mailpipe_fetcher_push_safety_finds_total"


def service_figures(plan: PushPlan | None, services: dict[str, list[Child]]) -> dict[str, Any]:
    """From the services' ``/metrics`` at the end of the run: the notifications the endpoint
    received (every outcome) and the mails safety rounds found that no notification had
    announced (all fetchers together). Read before the services stop."""
    if plan is None:
        return {}
    notify = [scrape(c) for c in services.get("notify", [])]
    fetchers = [scrape(c) for c in services.get("fetcher", [])]
    return {
        "notifications_received": round(counted(notify, RECEIVED)),
        "safety_finds": round(counted(fetchers, SAFETY_FINDS)),
    }


def scrape(child: Child) -> str:
    """The child's Prometheus text ("" when it has no health port or does not answer)."""
    if child.health_port is None:
        return ""
    try:
        url = f"http://127.0.0.1:{child.health_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            return str(answer.read().decode())
    except OSError:
        return ""


def counted(texts: list[str], sample: str) -> float:
    """The sum of ``sample`` over every label set in every text."""
    return sum(
        s.value
        for text in texts
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == sample
    )
