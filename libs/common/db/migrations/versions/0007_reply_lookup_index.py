"""An index on the stored In-Reply-To of each message, so that a mail arriving after its
reply finds the record the reply started (docs/ticketer.md, "Threads across ticketers").

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-20
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_record_messages_mailbox_in_reply_to"),
        "record_messages",
        ["mailbox", "in_reply_to"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_record_messages_mailbox_in_reply_to"), "record_messages")
