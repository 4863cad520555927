"""Every table of the one mailpipe database, as SQLAlchemy Core: the *query* view of the schema.
Only the migrations (``libs/common/db/migrations``) change it; a test checks that they agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Table,
    UniqueConstraint,
)

from libs.common.db._metadata import ADDRESS, HEADER, PROVIDER, Id, metadata
from libs.common.db._metadata import timestamp as _ts

# The web console's tables (0010) live in their own module, on the same metadata.
from libs.common.db.console_schema import (
    console_audit,
    console_login_failures,
    console_sessions,
    console_users,
)
from libs.common.db.storable import StoredJSON, StoredString, StoredText

__all__ = [
    "ADDRESS",
    "HEADER",
    "PROVIDER",
    "Id",
    "console_audit",
    "console_login_failures",
    "console_sessions",
    "console_users",
    "metadata",
]

records = Table(
    "records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("mailbox", StoredString(ADDRESS), nullable=False),
    Column("subject", StoredText(), nullable=False, default=""),
    Column("requester_address", StoredString(ADDRESS)),
    Column("requester_name", StoredText(), nullable=False, default=""),
    Column("status", StoredString(16), nullable=False, default="open"),
    Column("message_count", Integer, nullable=False, default=0),
    Column("assigned_to", Id, index=True),  # a console user's id (0015), no foreign key
    # The creating mail's first References id, else In-Reply-To: the thread-root lookup (0020).
    Column("thread_root", StoredString(HEADER)),
    _ts("created_at"),
    _ts("updated_at"),
    CheckConstraint("status IN ('open', 'pending', 'closed')", name="status"),
    Index(None, "mailbox", "updated_at"),
    Index(None, "mailbox", "thread_root"),
    # A record id is printed in subjects ([#12]) and must never name a second record, even
    # after the newest one is deleted: SQLite reuses rowids unless AUTOINCREMENT is asked for.
    sqlite_autoincrement=True,
)

record_messages = Table(
    "record_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("direction", StoredString(3), nullable=False),
    Column("kind", StoredString(32), nullable=False),
    Column("mailbox", StoredString(ADDRESS), nullable=False),
    # The mail provider and its id of an inbound message (0006); both NULL for outbound ones.
    Column("provider", StoredString(PROVIDER)),
    Column("message_id", StoredString(HEADER)),
    Column("internet_message_id", StoredString(HEADER)),
    Column("in_reply_to", StoredString(HEADER)),
    Column("references", StoredJSON(), nullable=False),
    Column("conversation_id", StoredString(HEADER)),
    Column("from_address", StoredString(ADDRESS)),
    Column("from_name", StoredText(), nullable=False, default=""),
    Column("to", StoredJSON(), nullable=False),
    Column("cc", StoredJSON(), nullable=False),
    Column("subject", StoredText(), nullable=False, default=""),
    Column("body_text", StoredText()),
    Column("body_html", StoredText()),
    Column("truncated", Boolean, nullable=False, default=False),
    # sha256 of what an inbound mail said (sender, subject, bodies, attachments) before any
    # processing: tells a copy of a mail from another mail reusing its Message-ID.
    Column("content_sha256", StoredString(64)),
    _ts("received_at"),
    _ts("created_at"),
    CheckConstraint("direction IN ('in', 'out')", name="direction"),
    CheckConstraint(
        "kind IN ('request', 'reply', 'auto_reply', 'note', 'delivery_failure', 'outbound')",
        name="kind",
    ),
    # NULLs are distinct on both backends: outbound messages (no message id) never collide.
    UniqueConstraint("mailbox", "message_id"),
    UniqueConstraint("mailbox", "internet_message_id"),
    Index(None, "record_id"),
    Index(None, "mailbox", "conversation_id"),
    Index(None, "mailbox", "content_sha256"),
    # The answers to a message (0007): a mail that arrives after its reply joins its record.
    Index(None, "mailbox", "in_reply_to"),
)

record_attachments = Table(
    "record_attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", Id, ForeignKey("record_messages.id", ondelete="CASCADE"), nullable=False),
    Column("name", StoredText(), nullable=False),
    Column("content_type", StoredString(255), nullable=False),
    Column("sha256", StoredString(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("inline", Boolean, nullable=False, default=False),
    Column("content_id", StoredString(HEADER)),
    Index(None, "message_id"),
)

delivery_failures = Table(
    "delivery_failures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", Id, ForeignKey("record_messages.id", ondelete="CASCADE"), nullable=False),
    Column("recipient", StoredString(ADDRESS), nullable=False),
    Column("status", StoredString(32), nullable=False, default=""),
    Column("diagnostic", StoredText(), nullable=False, default=""),
    Column("original_message_id", StoredString(HEADER)),
    Index(None, "record_id"),
)

requesters = Table(
    "requesters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("address", StoredString(ADDRESS), nullable=False, unique=True),
    Column("name", StoredText(), nullable=False, default=""),
    Column("display_name", StoredText()),
    Column("job_title", StoredText()),
    Column("department", StoredText()),
    Column("in_tenant", Boolean, nullable=False, default=False),
    _ts("fetched_at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("mailbox", StoredString(ADDRESS), nullable=False),
    Column("provider", StoredString(PROVIDER), nullable=False),
    Column("message_id", StoredString(HEADER), nullable=False),
    Column("folder", StoredString(HEADER), nullable=False),
    Column("internet_message_id", StoredString(HEADER)),
    Column("subject", StoredText(), nullable=False, default=""),
    Column("reason", StoredString(200), nullable=False),
    Column("detail", StoredText(), nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=0),
    _ts("created_at"),
    _ts("replayed_at", nullable=True),
    _ts("dropped_at", nullable=True),  # dropped: not wanted, the mail deleted (0014)
    Column("dropped_by", StoredString(200)),
    Column("drop_note", StoredText()),
    Index(None, "mailbox", "message_id"),
)

processed_log = Table(
    "processed_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("mailbox", StoredString(ADDRESS), nullable=False),
    Column("provider", StoredString(PROVIDER), nullable=False),
    Column("message_id", StoredString(HEADER), nullable=False),
    Column("folder", StoredString(HEADER), nullable=False),
    Column("internet_message_id", StoredString(HEADER)),
    Column("outcome", StoredString(16), nullable=False),
    # No foreign key: the log outlives a deleted record and still answers for the email.
    Column("record_id", Id),
    Column("reason", StoredText()),
    _ts("processed_at"),
    # The decision as planned (0005): the RecordEvent ``change`` it announces and the
    # acknowledgement intent, so that a redelivery publishes the same without deciding again.
    Column("change", StoredString(32)),
    Column("ack", StoredText()),
    CheckConstraint("outcome IN ('created', 'appended', 'ignored', 'quarantined')", name="outcome"),
    UniqueConstraint("mailbox", "message_id"),
)

sent_jobs = Table(
    "sent_jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job_id", StoredString(HEADER), nullable=False, unique=True),
    Column("status", StoredString(16), nullable=False),
    Column("internet_message_id", StoredString(HEADER)),
    Column("graph_request_id", StoredString(200)),
    Column("error_code", StoredString(200)),
    Column("error_message", StoredText()),
    Column("attempts", Integer, nullable=False, default=0),
    _ts("updated_at"),
    # The first claim's mailbox and record, and the subject that was sent: a repeated job id
    # is answered with these, never with what the repeat says (0004).
    Column("mailbox", StoredString(ADDRESS)),
    Column("record_id", Id),
    Column("subject", StoredText()),
    CheckConstraint(
        "status IN ('sending', 'retrying', 'sent', 'failed', 'rejected')", name="status"
    ),
)

# The sends of each mailbox in the last rate window, shared by every sender (0009): taken before a
# send, stamped (database time) when it ends, pruned past the window (docs/sending.md).
send_slots = Table(
    "send_slots",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("mailbox", StoredString(ADDRESS), nullable=False),
    _ts("sent_at"),
    Index(None, "mailbox", "sent_at"),
)

# Where each (mailbox, folder) read of changes left off: the provider's opaque cursor (Graph's
# delta link). Called ``delta_state`` with a ``delta_link`` before 0006.
mail_cursors = Table(
    "mail_cursors",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("mailbox", StoredString(ADDRESS), nullable=False),
    Column("folder", StoredString(HEADER), nullable=False),
    Column("provider", StoredString(PROVIDER), nullable=False),
    Column("cursor", StoredText(), nullable=False),
    _ts("updated_at"),
    UniqueConstraint("mailbox", "folder"),
)

ack_log = Table(
    "ack_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job_id", StoredString(HEADER), nullable=False, unique=True),
    Column("mailbox", StoredString(ADDRESS), nullable=False),
    Column("recipient", StoredString(ADDRESS), nullable=False),
    Column("record_id", Id),
    _ts("sent_at"),
    Index(None, "recipient", "sent_at"),
)

#: Jobs the ticketer (or ``mailpipe send`` against ``mailpipe run``) hands to the sender, written
#: in the transaction deciding them, published until the sender answers (docs/records.md "outbox").
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("job_id", StoredString(HEADER), nullable=False, unique=True),
    Column("mailbox", StoredString(ADDRESS), nullable=False),
    # The OutboundEmail as JSON: what is published, byte for byte, every time.
    Column("body", StoredText(), nullable=False),
    # Publishes begun; the claim of a publish moves next_attempt_at (the lease and the backoff).
    Column("attempts", Integer, nullable=False, default=0),
    _ts("created_at"),
    _ts("next_attempt_at"),
    _ts("published_at", nullable=True),
    # The sender's answer (an OutboundResult of any status) ends the publishing.
    Column("result_status", StoredString(16)),
    Column("result", StoredText()),
    _ts("confirmed_at", nullable=True),
    Index(None, "confirmed_at", "next_attempt_at"),
)

#: The database blob store (0008, libs/common/db/blobs.py): each blob's bytes in chunks of 1 MiB,
#: so that no write or read holds one huge value.
blobs = Table(
    "blobs",
    metadata,
    Column("sha256", StoredString(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    # When it was last put: garbage collection keeps what was put within its grace period.
    _ts("put_at"),
    Index(None, "put_at"),
)

blob_chunks = Table(
    "blob_chunks",
    metadata,
    Column(
        "sha256", StoredString(64), ForeignKey("blobs.sha256", ondelete="CASCADE"), primary_key=True
    ),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

import libs.common.db.schema_changes  # noqa: E402 - the table of 0019 (record history)
import libs.common.db.schema_health  # noqa: E402 - the table of 0012 (mailbox health)
import libs.common.db.schema_integrations  # noqa: E402 - the tables of 0011 (integrations)
import libs.common.db.schema_push  # noqa: E402, F401 - the table of 0017 (push subscriptions)
