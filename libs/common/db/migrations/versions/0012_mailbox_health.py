"""Mailbox health: each mailbox's last poll as the fetcher saw it, for the console's /health.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "mailbox_health",
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        _when("last_success_at"),
        _when("last_error_at"),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error_kind", sa.String(length=16), nullable=True),
        sa.Column("error_hint", sa.Text(), nullable=True),
        sa.Column("consecutive_errors", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("mailbox", name=op.f("pk_mailbox_health")),
    )


def downgrade() -> None:
    op.drop_table("mailbox_health")
