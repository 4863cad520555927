"""The endpoint answers 202 before it looks anything up or publishes: notifications wait on a
bounded queue for one worker. A full queue still answers 202, drops that POST's hints and
counts them (the safety rounds read the mail); rejected notifications are counted each and
logged once a minute per kind, not once per POST."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from libs.common.contracts import MailboxChanged
from libs.common.db.push_subscriptions import PushSubscription, state_hash
from services.notify.endpoint import Endpoint, build_app

BOX = "help@contoso.com"
STATE = "s3cret-client-state-" + "x" * 20
WAIT_S = 10.0


def note(sub_id: str = "sub-1", state: str = STATE) -> dict[str, object]:
    return {
        "subscriptionId": sub_id,
        "changeType": "created",
        "clientState": state,
        "resource": f"Users/{BOX}/Messages/AAMk1",
        "tenantId": "t-1",
    }


def count(outcome: str) -> float:
    labels = {"kind": "change", "outcome": outcome}
    return REGISTRY.get_sample_value("mailpipe_notify_notifications_total", labels) or 0.0


class Slow:
    """A subscription lookup that waits until released; ``entered`` once it was asked."""

    def __init__(self) -> None:
        self.release, self.entered = threading.Event(), threading.Event()
        self.sub = PushSubscription(
            "sub-1", BOX, state_hash(STATE), datetime.now(UTC) + timedelta(days=1)
        )

    def __call__(self, sub_id: str) -> PushSubscription | None:
        self.entered.set()
        assert self.release.wait(WAIT_S)
        return self.sub if sub_id == "sub-1" else None


@pytest.fixture
def slow() -> Iterator[Slow]:
    lookup = Slow()
    yield lookup
    lookup.release.set()


def test_answered_before_the_lookup_and_a_full_queue_still_202(slow: Slow) -> None:
    published: list[MailboxChanged] = []
    endpoint = Endpoint(slow, published.append, queue_posts=1)
    full_before = count("queue_full")
    with TestClient(build_app(endpoint)) as client:
        assert client.post("/notifications", json={"value": [note()]}).status_code == 202
        assert slow.entered.wait(WAIT_S), "the worker holds the first POST"
        assert not published, "answered while the lookup had not returned"
        assert client.post("/notifications", json={"value": [note()]}).status_code == 202
        third = client.post("/notifications", json={"value": [note(), note()]})
        assert third.status_code == 202, "a full queue is still accepted"
        assert count("queue_full") == full_before + 2, "its two notifications dropped"
        slow.release.set()
        endpoint.settle(WAIT_S)
    assert [h.mailbox for h in published][:1] == [BOX] and len(published) <= 2
    endpoint.close(WAIT_S)


def test_forged_posts_are_counted_each_and_logged_once(slow: Slow) -> None:
    slow.release.set()
    endpoint = Endpoint(slow, lambda hint: None)
    before = count("bad_client_state"), count("unknown_subscription")
    with capture_logs() as logs, TestClient(build_app(endpoint)) as client:
        for _ in range(50):
            forged = [note(state="guess"), note(sub_id="sub-unknown")]
            assert client.post("/notifications", json={"value": forged}).status_code == 202
        endpoint.settle(WAIT_S)
    assert (count("bad_client_state"), count("unknown_subscription")) == (
        before[0] + 50,
        before[1] + 50,
    )
    dropped = [line for line in logs if line["event"] == "notification dropped"]
    assert sorted(line["outcome"] for line in dropped) == [
        "bad_client_state",
        "unknown_subscription",
    ]
    assert all(STATE not in repr(line) and "guess" not in repr(line) for line in logs)
    endpoint.close(WAIT_S)
