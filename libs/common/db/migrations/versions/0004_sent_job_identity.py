"""What the sender's job log knows of each job's first claim and send: its mailbox, record
and subject, so that a repeated job id is answered with what was sent the first time, not
with what the repeat says (docs/sending.md, "A job id seen before").

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Nullable: a job logged before this revision has none; its repeat is answered without
    # a record, so nobody stores it on one.
    op.add_column("sent_jobs", sa.Column("mailbox", sa.String(length=320)))
    op.add_column("sent_jobs", sa.Column("record_id", ID))
    op.add_column("sent_jobs", sa.Column("subject", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("sent_jobs") as batch:
        batch.drop_column("subject")
        batch.drop_column("record_id")
        batch.drop_column("mailbox")
