"""Push end to end (docs/push.md): the simulator validates ``mailpipe notify`` at subscription,
posts change and lifecycle notifications to it, the endpoint publishes hints, the fetcher runs
delta rounds, the ticketer makes records.

The poll interval and the safety interval are an hour here, and every mail is seeded after the
start's first round: only a notification (or a lifecycle event) explains a record. Mail whose
notification the simulator dropped (``notify_drop_ratio = 1``) stands for mail that arrived
while no notification could announce it: only the lifecycle event's delta round reads it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.push_stack import PushStack, change_body, pushed_pipeline
from tests.integration.fetcher_rig import mail

HOUR = 3600.0
FLOOD = 200


@pytest.fixture(scope="module")
def push(tmp_path_factory: pytest.TempPathFactory, amqp_url: str) -> Iterator[PushStack]:
    with pushed_pipeline(tmp_path_factory.mktemp("push"), amqp_url, safety_interval_s=HOUR) as rig:
        yield rig


def seeded_unannounced(push: PushStack, n: int) -> str:
    """Seed a mail whose change notification the simulator drops; its id."""
    dropped = push.notes().get("dropped", 0)
    push.stack.faults(notify_drop_ratio=1.0)
    try:
        message_id = push.stack.seed(mail(n))
        push.stack.wait_until(
            lambda: push.notes().get("dropped", 0) > dropped, what="the notification dropped"
        )
    finally:
        push.stack.faults(notify_drop_ratio=0.0)
    return message_id


def test_the_handshake_at_subscription_and_a_mail_by_push(push: PushStack) -> None:
    sub = push.subscription()
    assert sub["notificationUrl"] == f"{push.notify_url}/notifications"
    assert sub["lifecycleNotificationUrl"] == f"{push.notify_url}/lifecycle"
    notes = push.notes()
    assert notes.get("validations", 0) >= 2, "the notification and the lifecycle URL"
    assert notes.get("validation_failures", 0) == 0
    before = len(push.messages())
    push.stack.seed(mail(1))
    push.wait_messages(before + 1, "the mail a record, by push alone")
    assert push.notify_count("change", "accepted") >= 1
    assert len(push.messages()) == before + 1


def test_reauthorization_required_is_answered(push: PushStack) -> None:
    sub = push.subscription()
    assert push.stack.sim.lifecycle(sub["id"], "reauthorizationRequired")
    push.stack.wait_until(
        lambda: not push.subscription()["needsReauthorization"], what="reauthorized"
    )
    assert push.subscription()["id"] == sub["id"], "the same subscription, reauthorized"
    requests = push.stack.stats()["requests"]
    calls = [n for route, c in requests.items() if "reauthorize" in route for n in c.values()]
    assert sum(calls) >= 1, requests.keys()


def test_subscription_removed_is_recreated_and_a_round_reads_what_came(push: PushStack) -> None:
    before = len(push.messages())
    old = push.subscription()["id"]
    seeded_unannounced(push, 2)
    assert push.stack.sim.lifecycle(old, "subscriptionRemoved")
    new = push.wait_subscription(other_than=old)
    assert new["id"] != old
    push.wait_messages(before + 1, "the unannounced mail read after the recreation")
    assert old not in {r["subscription_id"] for r in push.stack.rows("push_subscriptions")}
    push.stack.seed(mail(3))  # the new subscription notifies
    push.wait_messages(before + 2, "a mail by the new subscription")


def test_missed_runs_a_delta_round(push: PushStack) -> None:
    before = len(push.messages())
    seeded_unannounced(push, 4)
    assert push.stack.sim.lifecycle(push.subscription()["id"], "missed")
    push.wait_messages(before + 1, "the unannounced mail read after 'missed'")
    assert push.notify_count("lifecycle", "accepted") >= 3


def test_forged_and_replayed_notifications_make_no_record(push: PushStack) -> None:
    sub = push.subscription()
    secret = push.stack.sim.world.subscriptions[sub["id"]].client_state or ""
    known = push.messages()
    replayed = change_body(sub["id"], secret, known[-1]["message_id"] or "x")
    bodies = [
        change_body(sub["id"], "not-the-client-state", "AAMk-forged"),
        change_body("00000000-unknown-subscription", secret, "AAMk-forged"),
        replayed,
    ]
    rounds, started = push.delta_rounds(), time.monotonic()
    statuses = {push.post(bodies[i % len(bodies)]) for i in range(FLOOD)}
    elapsed = time.monotonic() - started
    assert statuses == {202}, "a failed check is still 202: the forger learns nothing"
    assert push.notify_count("change", "bad_client_state") >= FLOOD // 3
    assert push.notify_count("change", "unknown_subscription") >= FLOOD // 3
    # A genuine mail after the flood: once it is a record, the flood's rounds are behind it.
    push.stack.seed(mail(5))
    push.wait_messages(len(known) + 1, "the genuine mail after the flood")
    assert len(push.messages()) == len(known) + 1, "the flood made no record"
    flood_rounds = push.delta_rounds() - rounds
    # At most one hinted round per second, plus the genuine mail's and a slack of one.
    assert flood_rounds <= math.ceil(elapsed) + 2, (flood_rounds, elapsed)
    assert flood_rounds < FLOOD // 10


def test_duplicates_and_out_of_order_each_once(push: PushStack) -> None:
    before = push.messages()
    push.stack.faults(notify_duplicate_ratio=0.5, notify_reorder_window=4, notify_seed=18)
    try:
        ids = [push.stack.seed(mail(100 + n)) for n in range(12)]
        push.wait_messages(len(before) + len(ids), "every mail by push")
    finally:
        push.stack.faults(notify_duplicate_ratio=0.0, notify_reorder_window=0)
    assert push.notes().get("duplicated", 0) >= 1, "the fault happened"
    stored = [m["internet_message_id"] for m in push.messages()]
    assert len(stored) == len(set(stored)) == len(before) + len(ids), "each exactly once"


def test_half_the_notifications_dropped_every_mail_once(tmp_path: Path, amqp_url: str) -> None:
    with pushed_pipeline(tmp_path, amqp_url, safety_interval_s=5.0) as push:
        push.stack.faults(notify_drop_ratio=0.5, notify_seed=7)
        burst = 12
        for i in range(burst):
            push.stack.seed(mail(200 + i))
        push.wait_messages(burst, "every mail of the burst, by push or by the safety round")
        # The burst's late hints ask for one more round (spaced after the burst's): it runs
        # before the spread starts, or it would read the first spread mail unannounced.
        rounds = push.delta_rounds()
        push.stack.wait_until(lambda: push.delta_rounds() > rounds, what="the round after")
        # Then one at a time, each a record before the next: a mail whose notification was
        # dropped has no later notification's round to carry it, only a safety round.
        dropped, finds, spread = push.notes().get("dropped", 0), push.safety_finds(), 8
        for i in range(spread):
            push.stack.seed(mail(300 + i))
            push.wait_messages(burst + i + 1, f"spread mail {i}, by push or by the safety round")
        missed = push.notes().get("dropped", 0) - dropped
        assert missed >= 1, "the fault happened to a spread mail"
        found = push.safety_finds() - finds
        assert found >= missed, "safety rounds found what notifications missed"
        stored = [m["internet_message_id"] for m in push.messages()]
        assert len(stored) == len(set(stored)) == burst + spread, "each exactly once"


def test_a_silently_removed_subscription_is_noticed_and_made_again(
    tmp_path: Path, amqp_url: str
) -> None:
    with pushed_pipeline(tmp_path, amqp_url, safety_interval_s=5.0) as push:
        old = push.subscription()["id"]
        # Gone at Graph without a lifecycle event: only the keeper's lookup can notice.
        push.stack._control("POST", f"/_sim/subscriptions/{old}/expire")
        new = push.wait_subscription(other_than=old)
        assert old not in {r["subscription_id"] for r in push.stack.rows("push_subscriptions")}
        before = push.notes().get("sent", 0)
        push.stack.seed(mail(400))
        push.wait_messages(1, "a mail after the subscription was made again")
        assert push.subscription()["id"] == new["id"]
        push.stack.wait_until(
            lambda: push.notes().get("sent", 0) > before, what="announced by the new subscription"
        )
