"""The fetcher's push metrics (docs/push.md, "When notifications stop"), beside
:mod:`services.fetcher.metrics`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SUBSCRIPTIONS_ALIVE = Gauge(
    "mailpipe_fetcher_push_subscriptions_alive",
    "1 while the mailbox has a change subscription this fetcher keeps, else 0.",
    ["mailbox"],
)
SUBSCRIPTION_FAILURES = Counter(
    "mailpipe_fetcher_push_subscription_failures_total",
    "Subscription calls that failed, by call (subscribe, renew, reauthorize) and error code.",
    ["mailbox", "call", "reason"],
)
HINTS_HEARD = Counter(
    "mailpipe_fetcher_push_hints_total",
    "MailboxChanged hints heard for a mailbox this fetcher polls, by reason.",
    ["mailbox", "reason"],
)
HINT_ROUNDS = Counter(
    "mailpipe_fetcher_push_hint_rounds_total",
    "Rounds run at once because a hint asked for them.",
    ["mailbox"],
)
SAFETY_FINDS = Counter(
    "mailpipe_fetcher_push_safety_finds_total",
    "Mails published by a safety-interval round while push was active: mail no notification "
    "announced (or not yet: Graph may take up to 3 minutes).",
    ["mailbox"],
)
