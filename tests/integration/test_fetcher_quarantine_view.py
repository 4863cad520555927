"""Mail the fetcher quarantines itself is listed in the one quarantine view: the fetcher
publishes a QuarantinedEmail before it moves the mail, the ticketer stores it beside its own
entries, and ``mailpipe quarantine replay`` brings the mail back like any other entry.
Simulator, real RabbitMQ, SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from libs.common.blobs import BlobStore
from libs.common.contracts import QuarantinedEmail
from services.fetcher.unpublishable import QUARANTINE_AFTER
from services.ticketer.app import build_ticketer, lookup_pool
from services.ticketer.replay import replay
from services.ticketer.store import RecordStore
from tests.broker_helpers import drain
from tests.integration.fetcher_rig import SUPPORT, Rig, mail
from tests.integration.test_fetcher_unreadable import QUARANTINE, fast, faults, poller_of


def test_an_unreadable_mail_is_listed_by_the_ticketer_and_replayable(
    rig: Rig, database_url: str, tmp_path: Path
) -> None:
    good = rig.seed(mail(1))
    bad = rig.seed(mail(2, subject="Graph cannot render me"))
    faults(rig, poisoned={bad: {"status": 500, "parts_only": True}})
    config = fast(rig, keep_raw_mime=True)
    poller = poller_of(rig.fetcher(config))
    for _ in range(QUARANTINE_AFTER):
        poller.poll()
    assert [m["id"] for m in rig.sim_messages(QUARANTINE)] == [bad]
    assert [e.message_id for e in rig.inbound()] == [good]

    got = drain(rig.broker, rig.broker.names.ticketer_quarantine.name)
    assert len(got) == 1, "one event for one quarantined mail"
    event = QuarantinedEmail.from_json(got[0].body)
    assert (event.mailbox, event.message_id, event.folder) == (SUPPORT, bad, "inbox")
    assert event.reason.startswith("unreadable:") and event.failures == QUARANTINE_AFTER
    assert event.subject == "Graph cannot render me" and "request-id" in event.detail

    store, graphs = RecordStore.open(database_url), lookup_pool(config)
    try:
        ticketer = build_ticketer(store, BlobStore(tmp_path / "blobs"), rig.broker, config, graphs)
        ticketer.handle_quarantined(event)
        ticketer.handle_quarantined(event)  # a redelivery lists nothing twice
        [entry] = store.list_quarantine()
        assert (entry.message_id, entry.reason) == (bad, event.reason)
        assert entry.subject == "Graph cannot render me"

        faults(rig, poisoned={})
        said = replay(store, entry.id, config)
        assert "moved back to inbox" in said
        assert rig.folders().get(QUARANTINE, 0) == 0
        assert store.processed_outcome(SUPPORT, bad) is None, "the outcome is forgotten"
    finally:
        graphs.close()
        store.close()
    again = poller.poll()
    assert again is not None and again.published == 1
    assert [e.message_id for e in rig.inbound()] == [bad]
