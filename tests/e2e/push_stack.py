"""A pipeline with push end to end: the simulator posting change and lifecycle notifications
over plain http (``allow_http_notifications``) to ``mailpipe notify`` on a free local port,
``[push] public_url`` pointing at it (``allow_http = true``, the documented test switch), and
the fetcher and the ticketer as processes.

    with pushed_pipeline(tmp_path, amqp_url, safety_interval_s=3600) as push:
        push.stack.seed(raw)                       # the harness's Stack
        push.wait_messages(1)                      # record messages stored
        push.subscription()                        # the simulator's view of the one subscription
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import Stack, free_port, pipeline

SUPPORT = "support@contoso.com"


@dataclass
class PushStack:
    stack: Stack
    notify_url: str

    def subscriptions(self) -> list[dict[str, Any]]:
        """Every subscription the simulator holds (control listing)."""
        return list(self.stack._control("GET", "/_sim/subscriptions"))

    def subscription(self) -> dict[str, Any]:
        subs = self.subscriptions()
        assert len(subs) == 1, f"one subscription expected, the simulator holds {subs}"
        return subs[0]

    def wait_subscription(self, *, other_than: str | None = None) -> dict[str, Any]:
        """The one live subscription, once the endpoint's table knows it too."""

        def made() -> bool:
            subs = self.subscriptions()
            ids = {r["subscription_id"] for r in self.stack.rows("push_subscriptions")}
            return len(subs) == 1 and subs[0]["id"] != other_than and subs[0]["id"] in ids

        self.stack.wait_until(made, what="a subscription made and stored")
        return self.subscription()

    def notes(self) -> dict[str, int]:
        """The simulator's notification counts (absent keys are 0)."""
        return dict(self.stack.stats()["notifications"])

    def delta_rounds(self) -> int:
        return int(self.stack.stats()["delta_rounds"].get(SUPPORT, 0))

    def messages(self) -> list[dict[str, Any]]:
        """The stored messages of records (one row per mail that became part of a record)."""
        return self.stack.rows("record_messages")

    def wait_messages(self, n: int, what: str = "") -> None:
        self.stack.wait_until(
            lambda: len(self.messages()) >= n, what=what or f"{n} record messages"
        )

    def notify_count(self, kind: str, outcome: str) -> float:
        """``mailpipe_notify_notifications_total{kind,outcome}`` of the endpoint."""
        text = self.stack.processes["notify"].metrics()
        line = re.search(
            rf'^mailpipe_notify_notifications_total\{{kind="{kind}",outcome="{outcome}"\}} (\S+)$',
            text,
            re.MULTILINE,
        )
        return float(line.group(1)) if line else 0.0

    def safety_finds(self) -> float:
        """``mailpipe_fetcher_push_safety_finds_total`` of the fetcher (its one mailbox)."""
        text = self.stack.processes["fetcher"].metrics()
        found = re.findall(r"^mailpipe_fetcher_push_safety_finds_total\{[^}]*\} (\S+)$", text, re.M)
        return sum(float(v) for v in found)

    def post(self, body: dict[str, Any], path: str = "/notifications") -> int:
        """POST a notification body to the endpoint as anyone on the internet could."""
        with httpx.Client(timeout=10) as client:
            return client.post(f"{self.notify_url}{path}", json=body).status_code


def change_body(sub_id: str, client_state: str, message_id: str) -> dict[str, Any]:
    """A change notification in Graph's shape (without resource data)."""
    resource = f"Users/someone/Messages/{message_id}"
    return {
        "value": [
            {
                "subscriptionId": sub_id,
                "subscriptionExpirationDateTime": "2030-01-01T00:00:00.0000000Z",
                "changeType": "created",
                "resource": resource,
                "resourceData": {"@odata.type": "#Microsoft.Graph.Message", "id": message_id},
                "clientState": client_state,
                "tenantId": "forged",
            }
        ]
    }


@contextmanager
def pushed_pipeline(
    tmp_path: Path, amqp_url: str, *, safety_interval_s: float
) -> Iterator[PushStack]:
    """Endpoint, fetcher and ticketer running, the subscription made (handshake done)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    push = {"public_url": url, "allow_http": True, "safety_interval_s": safety_interval_s}
    with pipeline(
        tmp_path,
        amqp_url,
        mailboxes=[SUPPORT],
        poll_interval_s=safety_interval_s,
        push=push,
    ) as stack:
        # The endpoint first: Graph's handshake reaches it before the subscription exists.
        stack.start("notify", MAILPIPE_NOTIFY_PORT=str(port))
        stack.wait_ready("notify")
        stack.start("ticketer")
        stack.start("fetcher")
        stack.wait_ready("ticketer")
        stack.wait_ready("fetcher")
        rig = PushStack(stack, url)
        rig.wait_subscription()
        yield rig
