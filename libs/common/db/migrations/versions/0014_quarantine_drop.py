"""A quarantine entry can be dropped: who dropped it, when, and why (docs/records.md).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: an entry not dropped has none of them (every entry stored before this revision).
    op.add_column("quarantine", sa.Column("dropped_at", sa.DateTime(timezone=True)))
    op.add_column("quarantine", sa.Column("dropped_by", sa.String(length=200)))
    op.add_column("quarantine", sa.Column("drop_note", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("drop_note")
        batch.drop_column("dropped_by")
        batch.drop_column("dropped_at")
