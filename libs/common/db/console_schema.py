"""The web console's tables (0010, docs/console.md): its accounts, their server-side sessions,
the failed sign-ins that throttle guessing, the audit log of every change, and the replies
written in the console (0016)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Table

from libs.common.db._metadata import ADDRESS, HEADER, Id, metadata, timestamp
from libs.common.db.storable import StoredJSON, StoredString, StoredText

#: Usernames are stored lower-cased: unique whatever case they are typed in.
USERNAME = 64

console_users = Table(
    "console_users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", StoredString(USERNAME), nullable=False, unique=True),
    Column("display_name", StoredText(), nullable=False, default=""),
    Column("role", StoredString(16), nullable=False),
    # argon2id, in its own encoded form (parameters and salt included).
    Column("password_hash", StoredString(255), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    # The address Send As is granted for (0015); NULL until an admin sets it.
    Column("personal_email", StoredString(ADDRESS)),
    timestamp("created_at"),
    timestamp("updated_at"),
    CheckConstraint("role IN ('admin', 'agent')", name="role"),
)

# The session cookie holds a random token; only its sha256 is stored, so a copy of the table
# signs nobody in.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_sha256", StoredString(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("console_users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_secret", StoredString(64), nullable=False),
    timestamp("created_at"),
    timestamp("last_seen_at"),
    timestamp("expires_at"),
    Index(None, "user_id"),
)

# One row per failed sign-in, for the throttle's window; older rows are pruned.
console_login_failures = Table(
    "console_login_failures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", StoredString(USERNAME), nullable=False),
    Column("client", StoredString(64), nullable=False),
    timestamp("failed_at"),
    Index(None, "username", "failed_at"),
    Index(None, "client", "failed_at"),
)

# Who did what to whom; ``detail`` never holds a password, a hash, a token or a session id.
console_audit = Table(
    "console_audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    timestamp("at"),
    # No foreign key: the log outlives the account that acted.
    Column("actor_id", Id),
    Column("actor", StoredString(USERNAME), nullable=False, default=""),
    Column("action", StoredString(32), nullable=False),
    Column("target", StoredString(200), nullable=False, default=""),
    Column("detail", StoredJSON(), nullable=False),
    Index(None, "at"),
)

# Replies written in the console (0016, docs/console.md "Replying"): who replied to which
# record, as which address, under which job id. What became of each job is the sender's job
# log (``sent_jobs``, joined by ``job_id``): the stored OutboundResult.
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
    timestamp("created_at"),
    Index(None, "record_id"),
)
