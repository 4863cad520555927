"""An agent's status or assignment change (docs/console.md, "History"): the record and its
history row are written in one transaction, then, AFTER the commit, the record's
``RecordEvent`` (``change``: ``status`` or ``assigned``) is published on the events exchange
for other systems (docs/records.md, "Record events").

A publish that fails after the commit loses nothing: the change and its history row are
stored, the row not yet marked published (``announced_at``). It is counted
(``mailpipe_console_events_unpublished_total``), logged with the record and the change, and
published again, oldest first, after the next change that is published and by the console's
retry round (:data:`RETRY_S`), like an outbox."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from prometheus_client import Counter

from libs.common.broker import Broker, Names
from libs.common.contracts import RecordEvent
from libs.common.db.record_changes import Changed, RecordChanges
from services.web.domain.history import change_event, value_at

log = structlog.get_logger(__name__)

Announce = Callable[[RecordEvent], None]

#: Seconds between two retry rounds of the events not published yet.
RETRY_S = 60.0

UNPUBLISHED = Counter(
    "mailpipe_console_events_unpublished_total",
    "Record events of a console change that could not be published after its commit (the "
    "change is stored; systems following the events exchange did not hear of it)",
    ["change"],
)


def broker_announcer(amqp_url: str | None = None, names: Names | None = None) -> Announce:
    """Publish each event on the broker of the settings (or ``amqp_url``, in the namespace of
    ``names``), a connection an event (a change is a person's click: rare)."""

    def announce(event: RecordEvent) -> None:
        from libs.common.settings import Settings

        settings = Settings()
        url = amqp_url or settings.amqp_url.get_secret_value()
        with Broker(url, names or Names(settings.namespace)) as broker:
            broker.publish_routed(event, correlation_id=f"record:{event.record_id}")

    return announce


class ChangeDesk:
    """The console's changes of a record, and their events."""

    def __init__(self, changes: RecordChanges, announce: Announce) -> None:
        self.changes = changes
        self._announce = announce

    def set_status(self, record_id: int, status: str, by: str, user_id: int) -> Changed | None:
        """``None`` when there is no such record."""
        return self._announced(self.changes.set_status(record_id, status, by, user_id), by)

    def assign(self, record_id: int, assignee: int | None, by: str, user_id: int) -> Changed | None:
        return self._announced(self.changes.assign(record_id, assignee, by, user_id), by)

    def _announced(self, changed: Changed | None, by: str) -> Changed | None:
        """Publish the event of a change that was made (committed by now), then any earlier
        one whose publish failed; nothing for a change that changed nothing."""
        if changed is not None and changed.change is not None and self._publish(changed):
            self.publish_pending()
        return changed

    def publish_pending(self) -> int:
        """Publish the events of changes whose publish failed before, oldest first, until one
        fails again; how many were published."""
        done = 0
        for changed in self.changes.unannounced():
            if not self._publish(changed):
                break  # the broker is still away: the next change or round tries again
            done += 1
        return done

    def _publish(self, changed: Changed) -> bool:
        """Publish the event of ``changed`` (derived from its stored row and the record's
        history, so a retry says what the change did, when it did it) and mark it so."""
        change = changed.change
        assert change is not None
        history = self.changes.history(change.record_id)
        status = value_at(history, change, "status", changed.record["status"])
        assignee = value_at(history, change, "assigned", changed.assignee)
        record = {**changed.record, "status": status}
        try:
            event = change_event(
                record, change.kind, assignee, change.changed_by, change.changed_at
            )
        except ValueError as exc:  # the record cannot be said in the contract: never will be
            self._not_published(change.kind, change.record_id, exc)
            self.changes.announced(change.id)
            return True
        # After the commit: whatever goes wrong is counted and logged, and retried later.
        try:
            self._announce(event)
        except Exception as exc:
            self._not_published(change.kind, change.record_id, exc)
            return False
        self.changes.announced(change.id)
        return True

    @staticmethod
    def _not_published(kind: str, record_id: int, exc: Exception) -> None:
        UNPUBLISHED.labels(change=kind).inc()
        log.warning(
            "record event not published",
            record_id=record_id,
            change=kind,
            error=type(exc).__name__,
            detail=str(exc)[:200],
        )
