"""A record can be assigned to a console user; a console user has a personal email address
(docs/console.md, "Records").

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: a record nobody took (every record stored before this revision). No foreign
    # key: console users are disabled, never deleted, and SQLite cannot add one to a table.
    assigned_to = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.add_column("records", sa.Column("assigned_to", assigned_to))
    op.create_index("ix_records_assigned_to", "records", ["assigned_to"])
    op.add_column("console_users", sa.Column("personal_email", sa.String(length=320)))


def downgrade() -> None:
    with op.batch_alter_table("console_users") as batch:
        batch.drop_column("personal_email")
    op.drop_index("ix_records_assigned_to", table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("assigned_to")
