"""The notification endpoint's Prometheus metrics (served on ``/metrics`` by the health
server, never on the public endpoint)."""

from __future__ import annotations

from prometheus_client import Counter

NOTIFICATIONS = Counter(
    "mailpipe_notify_notifications_total",
    "Notifications received, by kind (change, lifecycle) and outcome (accepted, "
    "unknown_subscription, bad_client_state, malformed, queue_full).",
    ["kind", "outcome"],
)
HINTS = Counter(
    "mailpipe_notify_hints_published_total",
    "MailboxChanged hints published, by reason (created, missed, removed, reauthorize).",
    ["reason"],
)
HINTS_HELD = Counter(
    "mailpipe_notify_hints_held_total",
    "Notifications whose hint was deferred to the end of the mailbox's second, or covered by "
    "the deferred one (a burst or a flood).",
)
