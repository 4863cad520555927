"""The fetcher's Prometheus metrics (module-level, as prometheus_client expects; served on
``/metrics`` by the health server)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

MAILS_FETCHED = Counter(
    "mailpipe_fetcher_mails_fetched_total",
    "Mails read from a mailbox by a delta round (repeats still in flight not counted).",
    ["mailbox"],
)
MAILS_PUBLISHED = Counter(
    "mailpipe_fetcher_mails_published_total",
    "InboundEmail messages published (confirmed by the broker).",
    ["mailbox"],
)
MAILS_REMOVED = Counter(
    "mailpipe_fetcher_mails_removed_total",
    "Processed mails taken out of the inbox, by action (deleted, moved, copied_deleted, "
    "quarantined); 'not found' counts as done.",
    ["mailbox", "action"],
)
MAIL_FAILURES = Counter(
    "mailpipe_fetcher_mail_failures_total",
    "Mails that could not be read or published in a round (tried again next round).",
    ["mailbox"],
)
GRAPH_AUTH_FAILURES = Counter(
    "mailpipe_fetcher_graph_auth_failures_total",
    "Poll attempts refused for the mailbox's credential (attempts back off while it is).",
    ["mailbox"],
)
POLL_FAILURES = Counter(
    "mailpipe_fetcher_poll_failures_total",
    "Polls that failed, by error code.",
    ["mailbox", "reason"],
)
LAST_SUCCESSFUL_POLL = Gauge(
    "mailpipe_fetcher_last_successful_poll_timestamp_seconds",
    "Unix time of the last poll that completed (delta link saved).",
    ["mailbox"],
)
QUARANTINED_UNPUBLISHABLE = Counter(
    "mailpipe_fetcher_quarantined_unpublishable_total",
    "Mails the fetcher could never publish (their own permanent fault, several rounds in a "
    "row) and moved to the quarantine folder itself; the reason is in its log.",
    ["mailbox"],
)
QUARANTINED_UNREADABLE = Counter(
    "mailpipe_fetcher_quarantined_unreadable_total",
    "Mails Graph could not serve (a read of them failed while the same read of other mail "
    "succeeded, several rounds in a row), moved to the quarantine folder by the fetcher.",
    ["mailbox"],
)
NARROWED_ROUNDS = Counter(
    "mailpipe_fetcher_narrowed_rounds_total",
    "Rounds read narrowed because delta reads kept failing, by mode (small: small delta "
    "pages; by_id: an id-only listing and each mail on its own).",
    ["mailbox", "mode"],
)
