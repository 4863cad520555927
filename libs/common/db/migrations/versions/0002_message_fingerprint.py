"""A fingerprint of each inbound message's content, so that a second mail with a stored
Message-ID is told apart from a copy of the same mail (docs/records.md).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: rows stored before this revision have none (they compare as before).
    op.add_column("record_messages", sa.Column("content_sha256", sa.String(length=64)))
    op.create_index(
        op.f("ix_record_messages_mailbox_content_sha256"),
        "record_messages",
        ["mailbox", "content_sha256"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_record_messages_mailbox_content_sha256"), "record_messages")
    with op.batch_alter_table("record_messages") as batch:
        batch.drop_column("content_sha256")
