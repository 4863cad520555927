"""Replies written in the console (0016, docs/console.md "Replying"): who replied to which
record, as which address, under which job id. What became of each job is the sender's job log
(``sent_jobs``, joined by ``job_id``): the stored OutboundResult, so the console needs no
results queue of its own. Registered on the one ``metadata`` of :mod:`libs.common.db.schema`,
which imports this module."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Table

from libs.common.db._metadata import ADDRESS, HEADER, Id, metadata
from libs.common.db._metadata import timestamp as _ts
from libs.common.db.storable import StoredJSON, StoredString, StoredText

record_replies = Table(
    "record_replies",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # The OutboundEmail's job id: one form sent twice is one row and one job.
    Column("job_id", StoredString(HEADER), nullable=False, unique=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    # No foreign key: console users are disabled, never deleted.
    Column("user_id", Id),
    Column("username", StoredString(64), nullable=False),
    Column("mailbox", StoredString(ADDRESS), nullable=False),
    Column("from_address", StoredString(ADDRESS), nullable=False),
    Column("subject", StoredText(), nullable=False),
    Column("body_text", StoredText(), nullable=False),
    # The attachments' names and sizes (the bytes are in the job or the blob store).
    Column("attachments", StoredJSON(), nullable=False),
    _ts("created_at"),
    Index(None, "record_id"),
)
