"""Push subscriptions: each change subscription a fetcher made, read by the notification
endpoint to check a notification's clientState (docs/push.md).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("subscription_id", sa.String(length=200), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", name=op.f("pk_push_subscriptions")),
    )
    op.create_index("ix_push_subscriptions_mailbox", "push_subscriptions", ["mailbox"])


def downgrade() -> None:
    op.drop_index("ix_push_subscriptions_mailbox", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
