"""``python -m bench.ticketer`` runs the ticketer's whole inbound path on the corpus."""

from __future__ import annotations

from bench.ticketer import measure


def test_every_mail_of_the_corpus_is_handled_and_counted_on_sqlite() -> None:
    report = measure("sqlite", 20, 1)

    assert report["emails"] == 20
    assert report["rounds"] == 1
    assert len(report["cpu_ms_per_email_rounds"]) == 1
    # At least the three inserts of each new email (record, message, log row).
    assert report["statements_per_email"] >= 3
    # A redelivery reads, never writes again: its record read back, per batch BEGIN and one read.
    assert report["redelivered_statements_per_email"] == 1 + 2 / 20
    assert report["cpu_ms_per_email"] > 0
