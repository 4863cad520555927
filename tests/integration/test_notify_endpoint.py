"""The notification endpoint on a real broker and database: the validation handshake echoes,
a notification of a stored subscription publishes one hint, anything else publishes nothing
(and is still answered 202, or 4xx for what is not a notification at all), a flood of replays
publishes a bounded number of hints (one at once, one deferred to the second's end), and
nothing here ever makes a record."""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from libs.common.broker import Broker
from libs.common.broker.hints import HintListener
from libs.common.contracts import MailboxChanged
from libs.common.db.push_subscriptions import PushSubscriptionStore
from services.notify.domain.notifications import MAX_BODY_BYTES
from services.notify.endpoint import Endpoint, build_app

BOX = "help@contoso.com"
STATE = "s3cret-client-state-" + "x" * 20
WAIT_S = 10.0


@dataclass
class Rig:
    client: TestClient
    hints: queue.Queue[MailboxChanged]
    broker: Broker
    store: PushSubscriptionStore
    endpoint: Endpoint
    marked: bool = False

    def post(self, path: str, *items: dict[str, object]) -> int:
        answer = self.client.post(path, json={"value": list(items)})
        return answer.status_code

    def heard(self) -> MailboxChanged:
        return self.hints.get(timeout=WAIT_S)

    def heard_one_before(self, marker: str) -> MailboxChanged | None:
        """The next hint, or None once the one of marker ``marker`` (posted now) is heard."""
        if not self.marked:
            assert self.post("/notifications", change(marker, "state-" + marker)) == 202
            self.marked = True
        got = self.heard()
        return None if got.subscription_id == marker else got

    def heard_nothing_before(self, marker: str) -> None:
        """A valid notification of subscription ``marker`` goes last: the first hint heard
        must be its (hints of one publisher arrive in order)."""
        assert self.post("/notifications", change(marker, "state-" + marker)) == 202
        assert self.heard().subscription_id == marker


def change(sub_id: str = "sub-1", state: str = STATE, **extra: object) -> dict[str, object]:
    return {
        "subscriptionId": sub_id,
        "changeType": "created",
        "clientState": state,
        "resource": f"Users/{BOX}/Messages/AAMk1",
        "resourceData": {"id": "AAMk1"},
        "tenantId": "t-1",
        **extra,
    }


@pytest.fixture
def rig(broker: Broker, db_url: str) -> Iterator[Rig]:
    store = PushSubscriptionStore.open(db_url)
    later = datetime.now(UTC) + timedelta(days=1)
    store.save("sub-1", BOX, STATE, later)
    for marker in ("m1", "m2", "m3"):
        store.save(marker, f"{marker}@contoso.com", "state-" + marker, later)
    heard: queue.Queue[MailboxChanged] = queue.Queue()
    listener = HintListener(broker.connection, broker.names, heard.put)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    assert listener.ready.wait(WAIT_S)
    endpoint = Endpoint(store.find, lambda hint: broker.publish_routed(hint, correlation_id="c"))
    with TestClient(build_app(endpoint)) as client:
        yield Rig(client, heard, broker, store, endpoint)
    stop.set()
    thread.join(WAIT_S)
    store.close()


def test_the_validation_handshake_echoes_the_token(rig: Rig) -> None:
    token = "Validation: Testing client application reachability <b>1</b>"
    for path in ("/notifications", "/lifecycle"):
        answer = rig.client.post(path, params={"validationToken": token})
        assert answer.status_code == 200
        assert answer.text == token
        assert answer.headers["content-type"].startswith("text/plain")
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_valid_notification_publishes_one_hint(rig: Rig) -> None:
    assert rig.post("/notifications", change()) == 202
    hint = rig.heard()
    assert (hint.mailbox, hint.reason, hint.subscription_id) == (BOX, "created", "sub-1")
    rig.heard_nothing_before("m1")


@pytest.mark.parametrize(
    "item",
    [
        change(state="wrong-state"),
        change(sub_id="sub-unknown"),
        change(changeType="deleted"),
    ],
    ids=["forged client state", "unknown subscription", "a change we never asked for"],
)
def test_what_fails_the_check_is_accepted_and_dropped(rig: Rig, item: dict[str, object]) -> None:
    assert rig.post("/notifications", item) == 202
    rig.heard_nothing_before("m1")


def test_a_flood_of_replays_publishes_a_bounded_number_of_hints(rig: Rig) -> None:
    started = time.monotonic()
    for _ in range(30):
        assert rig.post("/notifications", change()) == 202
    elapsed = time.monotonic() - started
    rig.endpoint.settle(WAIT_S)  # the deferred hint is out
    first, trailing = rig.heard(), rig.heard()
    assert (first.mailbox, trailing.mailbox) == (BOX, BOX), "at once, and one at the second's end"
    more = 0
    while (got := rig.heard_one_before("m2")) is not None:
        assert got.mailbox == BOX
        more += 1
    # One hint per second at most: the 30 were held or folded into the deferred ones.
    assert 2 + more <= math.ceil(elapsed) + 1, (more, elapsed)


def test_lifecycle_events_become_hints_of_their_reason(rig: Rig) -> None:
    item = change(lifecycleEvent="subscriptionRemoved")
    del item["changeType"]
    assert rig.post("/lifecycle", item) == 202
    assert rig.heard().reason == "removed"
    item["lifecycleEvent"] = "missed"
    assert rig.post("/lifecycle", item) == 202
    assert rig.heard().reason == "missed"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"not json", "application/json", 400),
        (json.dumps({"value": [1]}).encode(), "application/json", 400),
        (b"[" * 50_000, "application/json", 400),
        (b"{}", "text/html", 415),
        (b" " * (MAX_BODY_BYTES + 1), "application/json", 413),
    ],
    ids=["not json", "not notifications", "deep nesting", "not JSON typed", "oversize"],
)
def test_what_is_not_a_notification_is_refused_cleanly(
    rig: Rig, content: bytes, content_type: str, status: int
) -> None:
    answer = rig.client.post(
        "/notifications", content=content, headers={"content-type": content_type}
    )
    assert answer.status_code == status
    assert "Traceback" not in answer.text
    rig.heard_nothing_before("m3")


def test_only_post_and_the_health_check(rig: Rig) -> None:
    assert rig.client.get("/notifications").status_code == 405
    assert rig.client.get("/healthz").text == "ok"
    assert rig.client.get("/").status_code == 404
    assert rig.client.get("/metrics").status_code == 404, "metrics stay off the public side"


def test_nothing_here_makes_a_record(rig: Rig) -> None:
    assert rig.post("/notifications", change()) == 202
    rig.heard()
    # The hint is the only message: no work queue (the ticketer's) got anything.
    assert rig.broker.message_count(rig.broker.names.ticketer.name) == 0
