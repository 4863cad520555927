"""The statements of the hot path, built once: a statement built per call costs more CPU
(construction and cache-key generation) than running it on SQLite. Values go in as bound
parameters (``conn.execute(STATEMENT, {...})``), a list as one parameter (:func:`among`: one
SQL text on PostgreSQL whatever the list's length); the writes are :class:`Prepared`
(``STATEMENT.first(conn, {...})``, ``.rowcount``): compiled once, run on the driver's
cursor without SQLAlchemy's per-call work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Table,
    bindparam,
    exists,
    insert,
    literal_column,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from libs.common.db.among import among
from libs.common.db.prepared import Prepared
from libs.common.db.schema import (
    delivery_failures,
    processed_log,
    record_attachments,
    record_messages,
    records,
)
from libs.common.db.schema_changes import CUSTOMER_REPLY, record_changes

#: Parameters: ``b_mailbox``, ``b_message_id``.
PROCESSED = select(processed_log).where(
    processed_log.c.mailbox == bindparam("b_mailbox"),
    processed_log.c.message_id == bindparam("b_message_id"),
)

#: Parameters: ``b_mailbox``, ``b_message_ids`` (a list).
PROCESSED_MANY = select(processed_log).where(
    processed_log.c.mailbox == bindparam("b_mailbox"),
    among(processed_log.c.message_id, "b_message_ids"),
)

#: Parameters: ``b_mailbox``, ``b_mid``.
MESSAGE_BY_MID = select(record_messages).where(
    record_messages.c.mailbox == bindparam("b_mailbox"),
    record_messages.c.internet_message_id == bindparam("b_mid"),
)

#: Parameters: ``b_mailbox``, ``b_sha``.
MESSAGE_BY_FINGERPRINT = (
    select(record_messages)
    .where(
        record_messages.c.mailbox == bindparam("b_mailbox"),
        record_messages.c.content_sha256 == bindparam("b_sha"),
    )
    .limit(1)
)

#: Parameters: ``b_mailbox``, ``b_mids`` (a list).
RECORDS_BY_MIDS = select(record_messages.c.internet_message_id, record_messages.c.record_id).where(
    record_messages.c.mailbox == bindparam("b_mailbox"),
    among(record_messages.c.internet_message_id, "b_mids"),
)

#: Parameters: ``b_mailbox``, ``b_mid``. The first record given an answer to message ``b_mid``.
RECORD_ANSWERING = (
    select(record_messages.c.record_id)
    .where(
        record_messages.c.mailbox == bindparam("b_mailbox"),
        record_messages.c.in_reply_to == bindparam("b_mid"),
    )
    .order_by(record_messages.c.id)
    .limit(1)
)

#: Parameters: ``b_mailbox``, ``b_conversation``.
RECORD_BY_CONVERSATION = (
    select(record_messages.c.record_id)
    .where(
        record_messages.c.mailbox == bindparam("b_mailbox"),
        record_messages.c.conversation_id == bindparam("b_conversation"),
    )
    .order_by(record_messages.c.id.desc())
    .limit(1)
)


#: Parameters: ``b_mailbox``, ``b_root``, ``b_requester``. The requester's first record
#: created by a mail answering thread root ``b_root``.
RECORD_BY_ROOT = (
    select(records.c.id)
    .where(
        records.c.mailbox == bindparam("b_mailbox"),
        records.c.thread_root == bindparam("b_root"),
        records.c.requester_address == bindparam("b_requester"),
    )
    .order_by(records.c.id)
    .limit(1)
)


def _held(kind: str, column: Any, name: str) -> Any:
    """The values of list ``name`` the mailbox holds in ``column``, each beside ``kind``."""
    where = (column.table.c.mailbox == bindparam("b_mailbox"), among(column, name))
    return select(literal_column(f"'{kind}'"), column).where(*where).distinct()


#: Parameters: ``b_mailbox`` and four lists: ``b_thread_mids`` (the Message-IDs the mailbox
#: holds), ``b_conversations`` (the conversations it holds), ``b_own_mids`` (the Message-IDs a
#: stored mail answers, i.e. names in its In-Reply-To), ``b_roots`` (the thread roots of its
#: records). Rows (kind, value), kind ``mid``, ``conversation``, ``answered`` or ``root``: a
#: batch's four look-ahead reads in one round trip.
HELD = union_all(
    _held("mid", record_messages.c.internet_message_id, "b_thread_mids"),
    _held("conversation", record_messages.c.conversation_id, "b_conversations"),
    _held("answered", record_messages.c.in_reply_to, "b_own_mids"),
    _held("root", records.c.thread_root, "b_roots"),
)


#: Parameter: ``b_id``.
RECORD = select(records).where(records.c.id == bindparam("b_id"))
RECORD_MAILBOX = select(records.c.mailbox).where(records.c.id == bindparam("b_id"))

#: Parameters: ``b_id``, ``b_now``. One more message on the record; REOPEN also opens it.
_TOUCH = (
    update(records)
    .where(records.c.id == bindparam("b_id"))
    .values(message_count=records.c.message_count + 1, updated_at=bindparam("b_now"))
)
TOUCH = Prepared(_TOUCH)
TOUCH_REOPEN = Prepared(_TOUCH.values(status="open"))

#: Executed with a dict of column values; the first two return the new row's id.
INSERT_RECORD = Prepared(insert(records).returning(records.c.id))
INSERT_MESSAGE = Prepared(insert(record_messages).returning(record_messages.c.id))
INSERT_LOG = Prepared(insert(processed_log))
#: Executed with a list of dicts of column values (``.many``): a message's rows.
INSERT_ATTACHMENT = Prepared(insert(record_attachments))
INSERT_FAILURE = Prepared(insert(delivery_failures))


def new_id(statement: Prepared, conn: Connection, values: dict[str, Any]) -> int:
    """The id an ``INSERT … RETURNING id`` gave its row."""
    row = statement.first(conn, values)
    assert row is not None, "an INSERT … RETURNING without its row"
    return int(row[0])


def _bound(table: Table, prefix: str) -> dict[str, BindParameter[Any]]:
    """A bound parameter ``<prefix><column>`` of the column's type per column but the ids
    and the console's ``assigned_to`` (a new record is nobody's: the column's NULL)."""
    return {
        c.name: bindparam(f"{prefix}{c.name}", type_=c.type)
        for c in table.c
        if c.name not in ("id", "record_id", "assigned_to")
    }


def _create() -> Any:
    """PostgreSQL only (data-modifying WITH): a new record, its first message and the email's
    log row in ONE statement, one round trip instead of three. Parameters: the columns'
    values prefixed ``r_`` (records), ``m_`` (record_messages), ``l_`` (processed_log), the
    ids left out; returns the record's id and the message's."""
    record = insert(records).values(_bound(records, "r_")).returning(records.c.id).cte("r")
    log, message = _message_and_log(record)
    return log.returning(processed_log.c.record_id, select(message.c.id).scalar_subquery())


def _message_and_log(record: Any) -> tuple[Any, Any]:
    """The message inserted on the record ``record`` (a CTE returning its ``id``) and the
    email's log row naming both: the log's insert (to be given its RETURNING) and the
    message's CTE. Nothing is inserted when ``record`` returns no row."""
    m_values = _bound(record_messages, "m_")
    message = (
        insert(record_messages)
        .from_select(["record_id", *m_values], select(record.c.id, *m_values.values()))
        .returning(record_messages.c.id)
        .cte("m")
    )
    l_values = _bound(processed_log, "l_")
    rows = select(record.c.id, *l_values.values()).select_from(record.join(message, true()))
    return insert(processed_log).from_select(["record_id", *l_values], rows), message


CREATE = Prepared(_create())


def _append(reopen: bool) -> Any:
    """PostgreSQL only: one more message on record ``t_id`` (counted, ``t_now``; reopened with
    ``reopen``) and the email's log row in ONE statement; parameters as :data:`CREATE`'s,
    ``r_`` aside. Returns the message's id, or no row when the record is gone (then nothing
    was written). A reopen also adds its history row when the record was not open."""
    record_id = bindparam("t_id", type_=records.c.id.type)
    now = bindparam("t_now", type_=records.c.updated_at.type)
    locked = _locked(record_id) if reopen else None
    touch = records.update().where(records.c.id == record_id)
    if locked is not None:  # the lock first: the reopen's history reads the row as locked
        touch = touch.where(exists(select(locked.c.id)))
    touch = touch.values(
        message_count=records.c.message_count + 1,
        updated_at=now,
        **({"status": "open"} if reopen else {}),
    )
    touched = touch.returning(records.c.id).cte("t")
    log, message = _message_and_log(touched)
    statement = log.returning(select(message.c.id).scalar_subquery())
    return statement.add_cte(_reopened(now, locked, touched)) if locked is not None else statement


def _locked(record_id: Any) -> Any:
    """The record's row locked (FOR UPDATE) and read as it is once the lock is had: a reply
    that waited for an agent's close sees the close (the statement's snapshot would not)."""
    return (
        select(records.c.id, records.c.status)
        .where(records.c.id == record_id)
        .with_for_update()
        .cte("lk")
    )


def _reopened(now: Any, locked: Any, touched: Any) -> Any:
    """The history row of a reopen, inserted only when the record, as locked, was not open."""
    was = select(
        locked.c.id,
        now,
        literal_column("'status'"),
        locked.c.status,
        literal_column("'open'"),
        literal_column(f"'{CUSTOMER_REPLY}'"),
        now,
    ).where(locked.c.status != "open", exists(select(touched.c.id)))
    columns = ["record_id", "changed_at", "kind", "old_value", "new_value", "changed_by"]
    columns.append("announced_at")  # said by the RecordEvent of the reply itself
    return insert(record_changes).from_select(columns, was).cte("c")


APPEND = Prepared(_append(reopen=False))
APPEND_REOPEN = Prepared(_append(reopen=True))

#: Parameters: ``b_id``. The record's status, read before a reopen (SQLite).
STATUS = select(records.c.status).where(records.c.id == bindparam("b_id"))
#: Executed with a dict of column values: a history row (SQLite's reopen).
INSERT_CHANGE = Prepared(insert(record_changes))
