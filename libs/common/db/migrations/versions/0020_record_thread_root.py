"""The thread root of each record (``records.thread_root``: the first Message-ID of the
creating mail's References, else its In-Reply-To), indexed per mailbox: two answers of one
requester naming the same root the mailbox never received join one record, whatever the
provider threads (docs/ticketer.md, "Threading"). Records stored before have none.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The width of a header-wide column (libs/common/db/schema.py, ``HEADER``).
_HEADER = 1000


def upgrade() -> None:
    op.add_column("records", sa.Column("thread_root", sa.String(length=_HEADER)))
    op.create_index(op.f("ix_records_mailbox_thread_root"), "records", ["mailbox", "thread_root"])


def downgrade() -> None:
    op.drop_index(op.f("ix_records_mailbox_thread_root"), "records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("thread_root")
