"""The history of each record's status and assignment (0019, docs/console.md "History"): one
row per change, written in the transaction that made it, by the console (an agent's change)
or the ticketer (a customer reply reopening the record). Registered on the one ``metadata``
of :mod:`libs.common.db.schema`, which imports this module."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Table

from libs.common.db._metadata import Id, metadata
from libs.common.db._metadata import timestamp as _ts
from libs.common.db.storable import StoredString

#: ``changed_by`` of the ticketer's reopen: no agent, a customer's reply.
CUSTOMER_REPLY = "customer reply"

record_changes = Table(
    "record_changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    _ts("changed_at"),
    # ``status`` (values: open, pending, closed) or ``assigned`` (values: a username, or
    # "" for nobody: the name as it was then).
    Column("kind", StoredString(16), nullable=False),
    Column("old_value", StoredString(64), nullable=False, default=""),
    Column("new_value", StoredString(64), nullable=False, default=""),
    # The agent's username, or CUSTOMER_REPLY; ``user_id`` the agent's id (no foreign key:
    # console users are disabled, never deleted), NULL for the ticketer.
    Column("changed_by", StoredString(64), nullable=False),
    Column("user_id", Id),
    # When the change's RecordEvent was published (NULL: not yet, retried by the console,
    # services/web/changes.py). The ticketer's reopen is said by its own RecordEvent of the
    # reply: stored as published.
    _ts("announced_at", nullable=True),
    CheckConstraint("kind IN ('status', 'assigned')", name="kind"),
    Index(None, "record_id", "id"),
    Index(None, "announced_at"),
)
