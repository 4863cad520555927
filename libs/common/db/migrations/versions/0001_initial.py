"""The initial record store schema.

Frozen: later schema changes are new revisions, never edits here. Types are spelled out rather
than imported from the application, so this file keeps meaning what it meant.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ack_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=1000), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("record_id", ID, nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ack_log")),
        sa.UniqueConstraint("job_id", name=op.f("uq_ack_log_job_id")),
    )
    op.create_index(op.f("ix_ack_log_recipient_sent_at"), "ack_log", ["recipient", "sent_at"])

    op.create_table(
        "delta_state",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("folder", sa.String(length=1000), nullable=False),
        sa.Column("delta_link", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delta_state")),
        sa.UniqueConstraint("mailbox", "folder", name=op.f("uq_delta_state_mailbox_folder")),
    )
    op.create_table(
        "processed_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("graph_id", sa.String(length=1000), nullable=False),
        sa.Column("folder", sa.String(length=1000), nullable=False),
        sa.Column("internet_message_id", sa.String(length=1000), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("record_id", ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('created', 'appended', 'ignored', 'quarantined')",
            name=op.f("ck_processed_log_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_log")),
        sa.UniqueConstraint("mailbox", "graph_id", name=op.f("uq_processed_log_mailbox_graph_id")),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("graph_id", sa.String(length=1000), nullable=False),
        sa.Column("folder", sa.String(length=1000), nullable=False),
        sa.Column("internet_message_id", sa.String(length=1000), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    op.create_index(op.f("ix_quarantine_mailbox_graph_id"), "quarantine", ["mailbox", "graph_id"])

    op.create_table(
        "records",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("requester_address", sa.String(length=320), nullable=True),
        sa.Column("requester_name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'pending', 'closed')", name=op.f("ck_records_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_records_mailbox_updated_at"), "records", ["mailbox", "updated_at"])

    op.create_table(
        "requesters",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("job_title", sa.Text(), nullable=True),
        sa.Column("department", sa.Text(), nullable=True),
        sa.Column("in_tenant", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requesters")),
        sa.UniqueConstraint("address", name=op.f("uq_requesters_address")),
    )
    op.create_table(
        "sent_jobs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("internet_message_id", sa.String(length=1000), nullable=True),
        sa.Column("graph_request_id", sa.String(length=200), nullable=True),
        sa.Column("error_code", sa.String(length=200), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('sending', 'retrying', 'sent', 'failed', 'rejected')",
            name=op.f("ck_sent_jobs_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_jobs")),
        sa.UniqueConstraint("job_id", name=op.f("uq_sent_jobs_job_id")),
    )
    op.create_table(
        "record_messages",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("graph_id", sa.String(length=1000), nullable=True),
        sa.Column("internet_message_id", sa.String(length=1000), nullable=True),
        sa.Column("in_reply_to", sa.String(length=1000), nullable=True),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("conversation_id", sa.String(length=1000), nullable=True),
        sa.Column("from_address", sa.String(length=320), nullable=True),
        sa.Column("from_name", sa.Text(), nullable=False),
        sa.Column("to", sa.JSON(), nullable=False),
        sa.Column("cc", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f("ck_record_messages_direction")),
        sa.CheckConstraint(
            "kind IN ('request', 'reply', 'auto_reply', 'note', 'delivery_failure', 'outbound')",
            name=op.f("ck_record_messages_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_messages_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_messages")),
        sa.UniqueConstraint(
            "mailbox", "graph_id", name=op.f("uq_record_messages_mailbox_graph_id")
        ),
        sa.UniqueConstraint(
            "mailbox",
            "internet_message_id",
            name=op.f("uq_record_messages_mailbox_internet_message_id"),
        ),
    )
    op.create_index(
        op.f("ix_record_messages_mailbox_conversation_id"),
        "record_messages",
        ["mailbox", "conversation_id"],
    )
    op.create_index(op.f("ix_record_messages_record_id"), "record_messages", ["record_id"])

    op.create_table(
        "delivery_failures",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("diagnostic", sa.Text(), nullable=False),
        sa.Column("original_message_id", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["record_messages.id"],
            name=op.f("fk_delivery_failures_message_id_record_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_delivery_failures_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_failures")),
    )
    op.create_index(op.f("ix_delivery_failures_record_id"), "delivery_failures", ["record_id"])

    op.create_table(
        "record_attachments",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("inline", sa.Boolean(), nullable=False),
        sa.Column("content_id", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["record_messages.id"],
            name=op.f("fk_record_attachments_message_id_record_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_attachments")),
    )
    op.create_index(op.f("ix_record_attachments_message_id"), "record_attachments", ["message_id"])


def downgrade() -> None:
    # Children before parents; indexes go with their tables.
    for table in (
        "record_attachments",
        "delivery_failures",
        "record_messages",
        "records",
        "requesters",
        "quarantine",
        "processed_log",
        "sent_jobs",
        "delta_state",
        "ack_log",
    ):
        op.drop_table(table)
