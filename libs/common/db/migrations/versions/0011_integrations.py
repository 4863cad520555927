"""Integrations: the console's mailboxes and Entra apps, secrets sealed (docs/configuration.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _text(name: str, length: int | None, *, nullable: bool = False) -> sa.Column[str]:
    kind = sa.Text() if length is None else sa.String(length=length)
    return sa.Column(name, kind, nullable=nullable)


def _flag(name: str) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        _text("name", 200),
        _flag("enabled"),
        _text("direction", 16),
        _text("provider", 32),
        _text("tenant_id", 255),
        _text("client_id", 64),
        _text("credential_kind", 16),
        _text("sealed_secret", None),
        _text("certificate_pem", None, nullable=True),
        sa.Column("secret_expires_on", sa.Date(), nullable=True),
        _text("address", 320),
        _text("folder", 255),
        sa.Column("poll_interval_s", sa.Float(), nullable=False),
        _text("after_processing", 260),
        _text("copy_to_folder", 255, nullable=True),
        _text("quarantine_folder", 255),
        _flag("auto_acknowledge"),
        sa.Column("auto_ack_per_hour", sa.Integer(), nullable=False),
        _flag("auto_ack_own_domain"),
        sa.Column("ignore_senders", sa.JSON(), nullable=False),
        _flag("allow_personal_profiles"),
        sa.Column("send_as", sa.JSON(), nullable=False),
        _text("send_as_fallback", 16),
        _flag("keep_raw_mime"),
        _text("record_token_format", 100),
        _text("message_id_domain", 255, nullable=True),
        _flag("is_default"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("name", name=op.f("uq_integrations_name")),
        sa.UniqueConstraint("address", name=op.f("uq_integrations_address")),
    )
    op.create_table(
        "integrations_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations_revision")),
    )
    op.execute("INSERT INTO integrations_revision (id, revision) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("integrations_revision")
    op.drop_table("integrations")
