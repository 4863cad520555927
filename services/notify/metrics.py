"""The notification endpoint's Prometheus metrics (served on ``/metrics`` by the health
server, never on the public endpoint)."""

from __future__ import annotations

from prometheus_client import Counter

NOTIFICATIONS = Counter(
    "mailpipe_notify_notifications_total",
    "Notifications received, by kind (change, lifecycle) and outcome (accepted, "
    "unknown_subscription, bad_client_state, malformed).",
    ["kind", "outcome"],
)
HINTS = Counter(
    "mailpipe_notify_hints_published_total",
    "MailboxChanged hints published, by reason (created, missed, removed, reauthorize).",
    ["reason"],
)
HINTS_HELD = Counter(
    "mailpipe_notify_hints_held_total",
    "Hints not published because the mailbox had one less than a second before (a flood).",
)
