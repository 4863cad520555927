"""``python -m bench --provider google``: the option, and the Gmail simulator's timeline and
stats put in the shape the figures are computed from, plus the Gmail-only figures."""

from __future__ import annotations

import pytest

from bench import measure
from bench.__main__ import parse
from bench.gmail import folder_of, gmail_figures, graph_events, graph_stats


def test_the_provider_option_defaults_to_microsoft_and_takes_google() -> None:
    assert parse([]).provider == "microsoft"
    assert parse(["--provider", "google", "--emails", "500"]).provider == "google"
    with pytest.raises(SystemExit):
        parse(["--provider", "yahoo"])


def test_labels_map_to_folders_and_the_trash_to_recoverable_items() -> None:
    assert folder_of("inbox") == "inbox"
    assert folder_of("trash") == measure.DELETED
    assert folder_of("mailpipe-quarantine") == "mailpipe-quarantine"
    assert [folder_of(x) for x in ("unread", "sent", "category_updates")] == [None] * 3


def test_a_trashed_mail_reads_as_arrived_then_deleted() -> None:
    events = [
        {"at": 10.0, "kind": "added", "folder": "inbox", "id": "a"},
        {"at": 10.0, "kind": "added", "folder": "unread", "id": "a"},
        {"at": 11.0, "kind": "added", "folder": "inbox", "id": "b"},
        {"at": 12.5, "kind": "added", "folder": "trash", "id": "a"},
        {"at": 12.5, "kind": "removed", "folder": "inbox", "id": "a"},
        {"at": 12.5, "kind": "removed", "folder": "unread", "id": "a"},
        {"at": 13.0, "kind": "added", "folder": "mailpipe-quarantine", "id": "b"},
        {"at": 13.0, "kind": "removed", "folder": "inbox", "id": "b"},
    ]
    shaped = graph_events(events)
    assert len(shaped) == 6  # the UNREAD changes are no move
    arrived, deleted = measure.arrivals_and_deletes(shaped)
    assert arrived == {"a": 10.0, "b": 11.0}
    assert deleted == {"a": 12.5}
    assert measure.final_folders(shaped) == {"a": measure.DELETED, "b": "mailpipe-quarantine"}


def test_gmail_figures_are_per_email_between_two_stats() -> None:
    before = {"http_requests": 4, "units": {"a@x": 10}, "batch_items": {}, "rate_limited": 0}
    after = {
        "http_requests": 54,
        "units": {"a@x": 1210, "b@x": 1000},
        "batch_items": {"GET users/{u}/messages/{id}": {"200": 200}},
        "rate_limited": 3,
    }
    figures = gmail_figures(before, after, 200)
    assert figures["provider"] == "google"
    assert (figures["gmail_api_requests"], figures["gmail_quota_units"]) == (50, 2200)
    assert figures["gmail_batch_items"] == 200
    assert figures["gmail_api_requests_per_email"] == 0.25
    assert figures["gmail_quota_units_per_email"] == 11.0
    assert graph_stats(after)["throttled"] == 3


def test_graph_stats_have_no_gmail_figures() -> None:
    assert gmail_figures({"http_requests": 1}, {"http_requests": 9, "requests": {}}, 4) == {}
