"""Mailbox health (0012): each mailbox's last poll round as the fetcher recorded it, read by
the console's ``/health`` page (docs/fetcher.md, "What it records"). Registered on the one
``metadata`` of :mod:`libs.common.db.schema`, which imports this module."""

from __future__ import annotations

from sqlalchemy import Column, Integer, Table

from libs.common.db._metadata import ADDRESS, metadata
from libs.common.db._metadata import timestamp as _ts
from libs.common.db.storable import StoredString, StoredText

mailbox_health = Table(
    "mailbox_health",
    metadata,
    Column("mailbox", StoredString(ADDRESS), primary_key=True),
    _ts("last_success_at", nullable=True),
    _ts("last_error_at", nullable=True),
    # The typed error's code and its one-line hint; never a message that could hold a secret.
    Column("error_code", StoredString(100)),
    # credential (refused) | permanent | transient: how the console weighs the error.
    Column("error_kind", StoredString(16)),
    Column("error_hint", StoredText()),
    Column("consecutive_errors", Integer, nullable=False),
    # Mails the last round saw but could not publish yet (they are read again next round).
    Column("waiting", Integer, nullable=False),
    _ts("updated_at"),
)
