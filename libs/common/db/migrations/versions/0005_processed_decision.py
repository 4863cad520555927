"""The ticketer's decision stored with each email's outcome: the RecordEvent ``change`` it
announces and the acknowledgement intent, so that a redelivery publishes what was decided the
first time without classifying the mail again (docs/ticketer.md, "One inbound email").

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The kind of an appended message that is also the change its event announced.
_APPENDED_CHANGE = """
UPDATE processed_log SET change = COALESCE(
    (SELECT m.kind FROM record_messages m
      WHERE m.mailbox = processed_log.mailbox AND m.graph_id = processed_log.graph_id
        AND m.kind IN ('reply', 'auto_reply', 'delivery_failure')),
    'reply')
WHERE outcome = 'appended'
"""


def upgrade() -> None:
    op.add_column("processed_log", sa.Column("change", sa.String(length=32)))
    # Nullable: NULL marks a row stored before this revision (its acknowledgement intent is
    # unknown; a redelivery publishes the acknowledgement the outbox holds for it, if any).
    op.add_column("processed_log", sa.Column("ack", sa.Text()))
    # The change of rows stored before: what a redelivery used to work out from the record.
    op.execute("UPDATE processed_log SET change = 'new_request' WHERE outcome = 'created'")
    op.execute(_APPENDED_CHANGE)


def downgrade() -> None:
    with op.batch_alter_table("processed_log") as batch:
        batch.drop_column("ack")
        batch.drop_column("change")
