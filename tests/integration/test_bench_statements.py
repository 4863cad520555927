"""``python -m bench.statements`` counts the ticketer's statements per email exactly."""

from __future__ import annotations

from bench.statements import measure


def test_statements_per_email_of_new_and_redelivered_mail_on_sqlite() -> None:
    report = measure("sqlite", 40)

    assert report["emails"] == 40
    # Three inserts per new email, and per batch of 20 its BEGIN and two reads: the outcomes,
    # and the look-ahead (Message-IDs, conversations, answering replies in one UNION ALL).
    assert report["statements_per_email"] == 3 + 3 / 20
    # A redelivery: its record read back for the event, and per batch BEGIN and one read.
    assert report["redelivered_statements_per_email"] == 1 + 2 / 20
    assert report["cpu_ms_per_email"] > 0
