"""``--push``: the run with Graph change notifications (docs/push.md). The simulator posts
notifications over plain http to ``mailpipe notify`` on a free local port (``[push]
allow_http``, the test and benchmark switch), the fetchers subscribe each mailbox, and the
steady arrival starts once every mailbox's subscription is alive, so every measured mail could
be announced. ``--push-drop`` drops that fraction of the change notifications: the safety
round must still read every mail."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

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
