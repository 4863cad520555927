"""Push subscriptions (0017): each change subscription a fetcher made, so that the notification
endpoint can check a notification's ``clientState`` (docs/push.md). Registered on the one
``metadata`` of :mod:`libs.common.db.schema`, which imports this module."""

from __future__ import annotations

from sqlalchemy import Column, Index, Table

from libs.common.db._metadata import ADDRESS, metadata
from libs.common.db._metadata import timestamp as _ts
from libs.common.db.storable import StoredString

push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    # The provider's id of the subscription (opaque; Graph's are GUIDs).
    Column("subscription_id", StoredString(200), primary_key=True),
    Column("mailbox", StoredString(ADDRESS), nullable=False),
    # SHA-256 (hex) of the subscription's clientState: the secret itself is never stored, so
    # the database alone cannot forge a notification.
    Column("state_hash", StoredString(64), nullable=False),
    _ts("expires_at"),
    _ts("updated_at"),
    Index("ix_push_subscriptions_mailbox", "mailbox"),
)
