"""Send slots: one sending rate per mailbox shared by every sender (docs/sending.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "send_slots",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_slots")),
    )
    op.create_index(op.f("ix_send_slots_mailbox_sent_at"), "send_slots", ["mailbox", "sent_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_send_slots_mailbox_sent_at"), "send_slots")
    op.drop_table("send_slots")
