"""Provider-neutral names: each received mail's id is ``message_id`` (was ``graph_id``) beside
the ``provider`` that gave it, and the fetcher's ``delta_state.delta_link`` is
``mail_cursors.cursor``. Every row stored before was Microsoft's (docs/architecture.md,
"The mail port").

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST = "microsoft"
PROVIDER = sa.String(length=32)


def upgrade() -> None:
    # Renames first, new constraints in a batch of their own: SQLite's batch mode copies
    # the table, and a constraint on a column renamed in the same batch is not found.
    with op.batch_alter_table("record_messages") as batch:
        batch.drop_constraint("uq_record_messages_mailbox_graph_id", type_="unique")
        batch.alter_column("graph_id", new_column_name="message_id")
        batch.add_column(sa.Column("provider", PROVIDER))
    _unique("record_messages", "uq_record_messages_mailbox_message_id", "mailbox", "message_id")
    inbound = "UPDATE record_messages SET provider = :provider WHERE direction = 'in'"
    op.execute(sa.text(inbound).bindparams(provider=FIRST))
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_index("ix_quarantine_mailbox_graph_id")
        batch.alter_column("graph_id", new_column_name="message_id")
        _add_provider(batch)
    op.create_index("ix_quarantine_mailbox_message_id", "quarantine", ["mailbox", "message_id"])
    with op.batch_alter_table("processed_log") as batch:
        batch.drop_constraint("uq_processed_log_mailbox_graph_id", type_="unique")
        batch.alter_column("graph_id", new_column_name="message_id")
        _add_provider(batch)
    _unique("processed_log", "uq_processed_log_mailbox_message_id", "mailbox", "message_id")
    _cursors()
    for table in ("quarantine", "processed_log", "mail_cursors"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("provider", existing_type=PROVIDER, server_default=None)


def _unique(table: str, name: str, *columns: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.create_unique_constraint(name, list(columns))


def _add_provider(batch: BatchOperations) -> None:
    # Filled for the rows already there; the default is dropped once they have it.
    batch.add_column(sa.Column("provider", PROVIDER, nullable=False, server_default=FIRST))


def _cursors() -> None:
    op.rename_table("delta_state", "mail_cursors")
    with op.batch_alter_table("mail_cursors") as batch:
        batch.drop_constraint("uq_delta_state_mailbox_folder", type_="unique")
        batch.alter_column("delta_link", new_column_name="cursor")
        _add_provider(batch)
    _unique("mail_cursors", "uq_mail_cursors_mailbox_folder", "mailbox", "folder")
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE mail_cursors RENAME CONSTRAINT pk_delta_state TO pk_mail_cursors")
        op.execute("ALTER SEQUENCE delta_state_id_seq RENAME TO mail_cursors_id_seq")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER SEQUENCE mail_cursors_id_seq RENAME TO delta_state_id_seq")
        op.execute("ALTER TABLE mail_cursors RENAME CONSTRAINT pk_mail_cursors TO pk_delta_state")
    with op.batch_alter_table("mail_cursors") as batch:
        batch.drop_constraint("uq_mail_cursors_mailbox_folder", type_="unique")
        batch.drop_column("provider")
        batch.alter_column("cursor", new_column_name="delta_link")
    _unique("mail_cursors", "uq_delta_state_mailbox_folder", "mailbox", "folder")
    op.rename_table("mail_cursors", "delta_state")
    with op.batch_alter_table("processed_log") as batch:
        batch.drop_constraint("uq_processed_log_mailbox_message_id", type_="unique")
        batch.drop_column("provider")
        batch.alter_column("message_id", new_column_name="graph_id")
    _unique("processed_log", "uq_processed_log_mailbox_graph_id", "mailbox", "graph_id")
    op.drop_index("ix_quarantine_mailbox_message_id", "quarantine")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("provider")
        batch.alter_column("message_id", new_column_name="graph_id")
    op.create_index("ix_quarantine_mailbox_graph_id", "quarantine", ["mailbox", "graph_id"])
    with op.batch_alter_table("record_messages") as batch:
        batch.drop_constraint("uq_record_messages_mailbox_message_id", type_="unique")
        batch.drop_column("provider")
        batch.alter_column("message_id", new_column_name="graph_id")
    _unique("record_messages", "uq_record_messages_mailbox_graph_id", "mailbox", "graph_id")
