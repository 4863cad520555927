"""The statements of the hot path, built once: a statement built per call costs more CPU
(construction and cache-key generation) than running it on SQLite. Values go in as bound
parameters (``conn.execute(STATEMENT, {...})``)."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update

from libs.common.db.schema import processed_log, record_messages, records

#: Parameters: ``b_mailbox``, ``b_message_id``.
PROCESSED = select(processed_log).where(
    processed_log.c.mailbox == bindparam("b_mailbox"),
    processed_log.c.message_id == bindparam("b_message_id"),
)

#: Parameters: ``b_mailbox``, ``b_message_ids`` (a list).
PROCESSED_MANY = select(processed_log).where(
    processed_log.c.mailbox == bindparam("b_mailbox"),
    processed_log.c.message_id.in_(bindparam("b_message_ids", expanding=True)),
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
    record_messages.c.internet_message_id.in_(bindparam("b_mids", expanding=True)),
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

#: Parameters: ``b_mailbox``, ``b_conversations`` (a list). The conversations the mailbox holds.
CONVERSATIONS_HELD = (
    select(record_messages.c.conversation_id)
    .where(
        record_messages.c.mailbox == bindparam("b_mailbox"),
        record_messages.c.conversation_id.in_(bindparam("b_conversations", expanding=True)),
    )
    .distinct()
)

#: Parameter: ``b_id``.
RECORD = select(records).where(records.c.id == bindparam("b_id"))
RECORD_MAILBOX = select(records.c.mailbox).where(records.c.id == bindparam("b_id"))

#: Parameters: ``b_id``, ``b_now``. One more message on the record; REOPEN also opens it.
TOUCH = (
    update(records)
    .where(records.c.id == bindparam("b_id"))
    .values(message_count=records.c.message_count + 1, updated_at=bindparam("b_now"))
)
TOUCH_REOPEN = TOUCH.values(status="open")

#: Executed with a dict of column values.
INSERT_RECORD = insert(records)
INSERT_MESSAGE = insert(record_messages)
INSERT_LOG = insert(processed_log)
