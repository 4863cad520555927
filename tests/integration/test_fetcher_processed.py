"""The processed consumer against the simulator and a real RabbitMQ: ProcessedEmail → delete
into Recoverable Items (by $batch), move mode, copy-then-delete mode, quarantine; "not found"
counts as done; a mail without its ProcessedEmail is never touched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from libs.graphsim.testing import SimHandle
from services.fetcher.service import Fetcher
from tests.integration.fetcher_rig import SUPPORT, Rig, mail, open_rig, until

RECOVERABLE = "recoverableitemsdeletions"


@pytest.fixture
def rig(sim: SimHandle, amqp_url: str, namespace: str, tmp_path: Path) -> Iterator[Rig]:
    database_url = f"sqlite:///{tmp_path / 'state.db'}"
    with open_rig(sim, amqp_url, namespace, database_url, tmp_path / "blobs") as made:
        yield made


def fetch(rig: Rig, fetcher: Fetcher, count: int) -> list:
    for n in range(count):
        rig.seed(mail(n))
    result = fetcher.pollers[0].poll()
    assert result is not None and result.published == count
    emails = rig.inbound()
    assert len(emails) == count
    return emails


def removed(action: str) -> float:
    value = REGISTRY.get_sample_value(
        "mailpipe_fetcher_mails_removed_total", {"mailbox": SUPPORT, "action": action}
    )
    return value or 0.0


def test_processed_mail_is_deleted_into_recoverable_items_by_batch(rig: Rig) -> None:
    fetcher = rig.fetcher()
    emails = fetch(rig, fetcher, 25)
    deleted_before = removed("deleted")
    with rig.consuming_processed(fetcher):
        for email in emails:
            rig.processed(email)
        until(lambda: rig.folders().get(RECOVERABLE) == 25)
    assert rig.folders()["inbox"] == 0
    assert fetcher.inflight.count(SUPPORT) == 0
    assert removed("deleted") - deleted_before == 25
    stats = rig.stats()
    assert stats["batch_items"]["DELETE users/{u}/messages/{m}"] == {"204": 25}
    assert "DELETE users/{u}/messages/{m}" not in stats["requests"], "no one-by-one deletes"
    assert 2 <= sum(stats["requests"]["POST $batch"].values()) <= 25
    assert rig.dead_letters() == []


def test_move_mode_moves_processed_mail_to_the_folder(rig: Rig) -> None:
    fetcher = rig.fetcher(after_processing="move:Processed")
    emails = fetch(rig, fetcher, 4)
    with rig.consuming_processed(fetcher):
        for email in emails:
            rig.processed(email, outcome="appended")
        until(lambda: rig.folders().get("Processed") == 4)
    folders = rig.folders()
    assert folders["inbox"] == 0 and folders[RECOVERABLE] == 0
    assert "POST users/{u}/messages/{m}/move" in rig.stats()["batch_items"]


def test_copy_mode_keeps_a_copy_and_deletes_the_original(rig: Rig) -> None:
    fetcher = rig.fetcher(copy_to_folder="Handled")
    emails = fetch(rig, fetcher, 3)
    with rig.consuming_processed(fetcher):
        for email in emails:
            rig.processed(email, outcome="ignored")
        until(lambda: rig.folders().get(RECOVERABLE) == 3)
    folders = rig.folders()
    assert folders["inbox"] == 0 and folders["Handled"] == 3
    items = rig.stats()["batch_items"]
    assert items["POST users/{u}/messages/{m}/copy"] == {"201": 3}
    assert items["DELETE users/{u}/messages/{m}"] == {"204": 3}


def test_quarantined_mail_is_moved_aside_and_the_rest_deleted(rig: Rig) -> None:
    fetcher = rig.fetcher()
    bad, *good = fetch(rig, fetcher, 3)
    with rig.consuming_processed(fetcher):
        rig.processed(bad, outcome="quarantined")
        for email in good:
            rig.processed(email)
        until(
            lambda: (
                rig.folders().get("mailpipe-quarantine") == 1
                and rig.folders().get(RECOVERABLE) == 2
            )
        )
    assert rig.folders()["inbox"] == 0
    with rig.sim.control() as control:
        (kept,) = control.get(
            f"/_sim/mailboxes/{SUPPORT}/folders/mailpipe-quarantine/messages"
        ).json()
    assert kept["id"] == bad.message_id, "immutable ids survive the move"


def test_not_found_counts_as_done_and_redelivery_is_harmless(rig: Rig) -> None:
    fetcher = rig.fetcher()
    (email,) = fetch(rig, fetcher, 1)
    with rig.consuming_processed(fetcher):
        rig.processed(email)
        until(lambda: rig.folders().get(RECOVERABLE) == 1)
        rig.processed(email)  # the same answer again: the mail is gone already
        rig.processed("AAkAnever-existed=")
        until(
            lambda: (
                rig.broker.message_count(rig.broker.names.fetcher_processed.name) == 0
                and rig.stats()["batch_items"]["DELETE users/{u}/messages/{m}"].get("404") == 2
            )
        )
    assert rig.dead_letters() == [], "not found is done, not a failure"
    assert rig.folders()[RECOVERABLE] == 1


def test_mail_without_its_processed_message_is_never_touched(rig: Rig) -> None:
    fetcher = rig.fetcher()
    first, second = fetch(rig, fetcher, 2)
    with rig.consuming_processed(fetcher):
        rig.processed(first)
        until(lambda: rig.folders().get(RECOVERABLE) == 1)
    assert rig.folders()["inbox"] == 1
    with rig.sim.control() as control:
        (left,) = control.get(f"/_sim/mailboxes/{SUPPORT}/folders/inbox/messages").json()
    assert left["id"] == second.message_id
    assert fetcher.inflight.count(SUPPORT) == 1, "still in flight until it is processed"


def test_graph_faults_change_nothing_in_the_end(rig: Rig) -> None:
    """429s and 503s on requests and on batch items: retried until the same final state."""
    fetcher = rig.fetcher()
    for n in range(12):
        rig.seed(mail(n))
    with rig.sim.control() as control:
        # Seeded: the first random draw is a throttle, so the faults cannot all miss.
        knobs = {"throttle_ratio": 0.3, "error_ratio": 0.1, "retry_after_s": 0, "seed": 1}
        control.post("/_sim/faults", json=knobs).raise_for_status()
    try:
        poller = fetcher.pollers[0]
        until(lambda: poller.poll() is not None and poller.status.ok)
        assert fetcher.inflight.count(SUPPORT) == 12
        emails = rig.inbound()
        in_inbox = [m["id"] for m in rig.sim_messages("inbox")]
        assert sorted(e.message_id for e in emails) == sorted(in_inbox)
        with rig.consuming_processed(fetcher):
            for email in emails:
                rig.processed(email)
            until(lambda: rig.folders().get(RECOVERABLE) == 12)
    finally:
        with rig.sim.control() as control:
            control.post("/_sim/faults", json={"throttle_ratio": 0, "error_ratio": 0})
    assert rig.stats()["throttled"] > 0, "the faults were on"
    assert rig.folders()["inbox"] == 0
    assert rig.dead_letters() == []
