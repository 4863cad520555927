"""Change and lifecycle notifications from the simulator: their shape, what counts as
"created" in a folder, batching, retries, every fault (seeded) and the counters."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import graph, seed
from tests.integration.test_graphsim_subscriptions import subscribe
from tests.notify_receiver import Receiver, receiver

BOX = "users/support@contoso.com"


@pytest.fixture
def rec() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
def client(sim: SimHandle) -> Iterator[httpx.Client]:
    with graph(sim, immutable=False) as c:
        yield c


def mail(subject: str) -> bytes:
    return f"Subject: {subject}\r\nFrom: a@example.com\r\n\r\nbody\r\n".encode()


def seed_many(sim: SimHandle, count: int) -> list[str]:
    """Seeds ``count`` mails; their REST ids, in arrival order."""
    ids = []
    with sim.control() as c:
        for n in range(count):
            r = c.post("/_sim/mailboxes/support@contoso.com/messages", content=mail(f"m{n}"))
            ids.append(r.json()["restId"])
    return ids


def counts(sim: SimHandle) -> Counter[str]:
    with sim.control() as c:
        return Counter(c.get("/_sim/stats").json()["notifications"])


def wait_count(sim: SimHandle, key: str, value: int) -> Counter[str]:
    """The counters once ``key`` reached ``value`` (the simulator counts a POST when the
    receiver has answered it, just after the receiver recorded it)."""
    pause = threading.Event()
    for _ in range(400):
        now = counts(sim)
        if now[key] >= value:
            return now
        pause.wait(0.05)
    raise AssertionError(f"{key} stayed at {now[key]}, expected {value}")


def wait_settled(sim: SimHandle, rec: Receiver, expected_sent: int) -> list[dict[str, Any]]:
    items = rec.wait_items(expected_sent)
    assert wait_count(sim, "sent", expected_sent)["sent"] == expected_sent
    return items


def test_seeded_mail_gives_one_notification_in_graphs_shape(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    sub = subscribe(client, rec)
    with sim.control() as c:
        seeded = c.post("/_sim/mailboxes/support@contoso.com/messages", content=mail("hi")).json()
    [item] = rec.wait_items(1)
    user_id = sim.world.users["support@contoso.com"].user_id
    path = f"Users/{user_id}/Messages/{seeded['restId']}"
    assert item == {
        "subscriptionId": sub["id"],
        "subscriptionExpirationDateTime": sub["expirationDateTime"],
        "changeType": "created",
        "resource": path,
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": path,
            "@odata.etag": item["resourceData"]["@odata.etag"],
            "id": seeded["restId"],
        },
        "clientState": "s3cret-state",
        "tenantId": sim.tenant_id,
    }
    assert item["resourceData"]["@odata.etag"].startswith('W/"')
    fetched = client.get(f"{BOX}/messages/{item['resourceData']['id']}")
    assert fetched.status_code == 200 and fetched.json()["subject"] == "hi"
    final = wait_count(sim, "sent", 1)
    assert final["sent"] == 1 and final["posts"] == 1


def test_immutable_id_subscriptions_notify_immutable_ids(sim: SimHandle, rec: Receiver) -> None:
    with graph(sim, immutable=True) as g:
        subscribe(g, rec)
    mid = seed(sim, mail("immutable"))
    assert rec.wait_items(1)[0]["resourceData"]["id"] == mid


def test_moves_copies_and_sent_items_are_created_in_their_folder(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    subscribe(client, rec, clientState="inbox")
    subscribe(client, rec, clientState="sent", resource=f"{BOX}/mailFolders('sentitems')/messages")
    archived = seed(sim, mail("from archive"), folder="archive")
    client.post(
        f"{BOX}/messages/{archived}/move", json={"destinationId": "inbox"}
    ).raise_for_status()
    client.post(f"{BOX}/messages/{archived}/copy", json={"destinationId": "sentitems"})
    sent = {"message": {"subject": "s", "toRecipients": [{"emailAddress": {"address": "x@y.z"}}]}}
    assert client.post(f"{BOX}/sendMail", json=sent).status_code == 202
    items = rec.wait_items(3)
    assert sorted(i["clientState"] for i in items) == ["inbox", "sent", "sent"]
    assert {i["changeType"] for i in items} == {"created"}


def test_updated_and_deleted_when_subscribed(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    subscribe(client, rec, changeType="updated,deleted")
    mid = seed(sim, mail("watched"))
    client.patch(f"{BOX}/messages/{mid}", json={"isRead": True}).raise_for_status()
    assert client.delete(f"{BOX}/messages/{mid}").status_code == 204
    items = rec.wait_items(2)
    assert [i["changeType"] for i in items] == ["updated", "deleted"]
    assert wait_count(sim, "sent", 2)["sent"] == 2  # the seeding ("created") was not subscribed to


def test_a_slow_endpoint_blocks_no_graph_request(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    sim.notification_faults(notify_timeout_s=60)
    subscribe(client, rec)
    rec.hold = threading.Event()
    try:
        [first] = seed_many(sim, 1)
        rec.wait_items(1)  # posted, and not answered yet
        [second] = seed_many(sim, 1)  # the simulator still takes mail and answers reads
        assert client.get(f"{BOX}/messages/{second}").status_code == 200
        assert counts(sim)["sent"] == 0
    finally:
        rec.hold.set()
    got = [i["resourceData"]["id"] for i in wait_settled(sim, rec, 2)]
    assert got == [first, second]


def test_close_notifications_share_a_post_without_loss(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    sim.notification_faults(notify_batch_ms=500)
    subscribe(client, rec)
    ids = seed_many(sim, 8)
    items = wait_settled(sim, rec, 8)
    assert sorted(i["resourceData"]["id"] for i in items) == sorted(ids)
    assert len(rec.posts) < 8


def test_5xx_is_retried_and_4xx_is_not(sim: SimHandle, client: httpx.Client, rec: Receiver) -> None:
    sim.notification_faults(notify_retry_ms=50)
    subscribe(client, rec)
    rec.fail_next = 2
    [retried] = seed_many(sim, 1)
    rec.wait_items(1)
    assert wait_count(sim, "sent", 1)["failed_deliveries"] == 2 and rec.failed_posts == 2
    rec.fail_next, rec.fail_status = 1, 400
    seed(sim, mail("refused"))
    wait_count(sim, "undelivered", 1)
    [after] = seed_many(sim, 1)
    items = rec.wait_items(2)
    final = wait_count(sim, "sent", 2)
    assert final["undelivered"] == 1 and final["failed_deliveries"] == 3 and final["sent"] == 2
    assert [i["resourceData"]["id"] for i in items] == [retried, after]


def test_retries_end_and_the_notification_is_undelivered(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    sim.notification_faults(notify_retry_ms=20, notify_retries=2)
    subscribe(client, rec)
    rec.fail_next = 100
    seed_many(sim, 1)
    final = wait_count(sim, "undelivered", 1)
    assert final["failed_deliveries"] == 3 and rec.failed_posts == 3 and final["sent"] == 0


def test_drops_are_seeded_and_add_up(sim: SimHandle, client: httpx.Client, rec: Receiver) -> None:
    def run() -> set[int]:
        with sim.control() as c:
            c.post("/_sim/reset").raise_for_status()
        sim.notification_faults(notify_drop_ratio=0.4, notify_seed=7)
        subscribe(client, rec)
        rec.posts.clear()
        ids = seed_many(sim, 20)
        dropped = counts(sim)["dropped"]
        items = wait_settled(sim, rec, 20 - dropped)
        received = {i["resourceData"]["id"] for i in items}
        assert len(items) == len(received)  # no duplicates
        return {n for n, mid in enumerate(ids) if mid not in received}

    lost = run()
    assert 0 < len(lost) < 20
    assert run() == lost  # the same seed drops the same mails


def test_duplicates(sim: SimHandle, client: httpx.Client, rec: Receiver) -> None:
    sim.notification_faults(notify_duplicate_ratio=0.5, notify_seed=3)
    subscribe(client, rec)
    ids = seed_many(sim, 10)
    duplicated = counts(sim)["duplicated"]
    assert 0 < duplicated < 10
    items = wait_settled(sim, rec, 10 + duplicated)
    got = [i["resourceData"]["id"] for i in items]
    assert set(got) == set(ids) and len(got) - len(set(got)) == duplicated


def test_out_of_order_within_the_window(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    # A long hold: each window fills however slowly the mails are seeded.
    sim.notification_faults(notify_reorder_window=5, notify_reorder_hold_ms=30_000, notify_seed=11)
    subscribe(client, rec)
    ids = seed_many(sim, 10)
    got = [i["resourceData"]["id"] for i in wait_settled(sim, rec, 10)]
    assert sorted(got) == sorted(ids) and got != ids
    # Shuffled within windows of five: each half stays in its half.
    assert set(got[:5]) == set(ids[:5]) and set(got[5:]) == set(ids[5:])


def test_delay_range_loses_nothing(sim: SimHandle, client: httpx.Client, rec: Receiver) -> None:
    sim.notification_faults(notify_delay_ms=10, notify_delay_max_ms=300, notify_seed=5)
    subscribe(client, rec)
    ids = seed_many(sim, 6)
    got = [i["resourceData"]["id"] for i in wait_settled(sim, rec, 6)]
    assert sorted(got) == sorted(ids)


@pytest.mark.parametrize("event", ["reauthorizationRequired", "subscriptionRemoved", "missed"])
def test_lifecycle_events(sim: SimHandle, client: httpx.Client, rec: Receiver, event: str) -> None:
    sub = subscribe(client, rec, lifecycleNotificationUrl=rec.url("/lifecycle"))
    assert sim.lifecycle(sub["id"], event) is True
    [item] = rec.wait_items(1, "/lifecycle")
    assert item == {
        "subscriptionId": sub["id"],
        "subscriptionExpirationDateTime": sub["expirationDateTime"],
        "tenantId": sim.tenant_id,
        "clientState": "s3cret-state",
        "lifecycleEvent": event,
    }
    still_there = client.get(f"subscriptions/{sub['id']}").status_code == 200
    assert still_there is (event != "subscriptionRemoved")
    assert wait_count(sim, "lifecycle_sent", 1)["lifecycle_sent"] == 1
    assert rec.items("/notify") == []


def test_no_lifecycle_url_no_lifecycle_events(
    sim: SimHandle, client: httpx.Client, rec: Receiver
) -> None:
    sub = subscribe(client, rec)
    assert sim.lifecycle(sub["id"], "missed") is False
    assert sim.lifecycle(sub["id"], "subscriptionRemoved") is False
    assert client.get(f"subscriptions/{sub['id']}").status_code == 404
    with sim.control() as c:
        again = c.post(
            f"/_sim/subscriptions/{quote(sub['id'])}/lifecycle", json={"event": "missed"}
        )
    assert again.status_code == 404
    assert counts(sim)["subscriptions_alive"] == 0


def test_bad_lifecycle_event_is_400(sim: SimHandle, client: httpx.Client, rec: Receiver) -> None:
    sub = subscribe(client, rec)
    with sim.control() as c:
        r = c.post(f"/_sim/subscriptions/{sub['id']}/lifecycle", json={"event": "deleted"})
    assert r.status_code == 400 and "reauthorizationRequired" in r.json()["error"]
