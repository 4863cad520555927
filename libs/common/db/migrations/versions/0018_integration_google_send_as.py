"""Google integrations: how a Google mailbox sends as an agent (``google_send_as``:
``impersonate`` the agent's own mailbox, or a verified ``alias`` of the helpdesk mailbox;
docs/google.md). Every integration stored before is Microsoft's or impersonates.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "integrations",
        sa.Column(
            "google_send_as",
            sa.String(length=16),
            nullable=False,
            server_default="impersonate",
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("google_send_as")
