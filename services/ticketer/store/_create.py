"""A new record from an inbound email (the record, its first message and the email's log
row), or an email appended to a record (the record counted and maybe reopened, the message,
the log row); a reopen of a record that was not open adds its history row.

On PostgreSQL each is ONE statement (:data:`_sql.CREATE`, :data:`_sql.APPEND`, data-modifying
``WITH``): one round trip instead of three, the same rows. On SQLite, which has no ``INSERT``
inside ``WITH`` and no round trip to save, three statements. Either way inside the caller's
transaction, so a unique constraint that another writer won raises as before.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.engine import Connection

from libs.common.db import Absent
from services.ticketer.store import _rows, _sql, _writes
from services.ticketer.store.models import NewMessage, ProcessedRow, RecordSummary


def create(
    conn: Connection,
    msg: NewMessage,
    opening: _writes.Opening,
    logged: ProcessedRow,
    absent: Absent | None,
) -> tuple[RecordSummary, ProcessedRow]:
    """``msg`` as stored (maybe without a reused Message-ID); ``logged``: the email's log row
    but its record id. The record as :func:`_rows.record_summary` would read it back, and
    the log row as written."""
    now = logged.processed_at
    values = _writes.record_values(msg, opening, now)
    _writes.record_written(values, absent)
    if conn.dialect.name != "postgresql":
        record = _writes.insert_record(conn, values)
        _writes.insert_message(conn, record.id, msg, now, absent)
        logged = replace(logged, record_id=record.id)
        _sql.INSERT_LOG.rowcount(conn, logged.__dict__)
        return record, logged
    params = {f"r_{k}": v for k, v in values.items()}
    params.update((f"m_{k}", v) for k, v in _rows.message_values(msg, 0, now).items())
    params.update((f"l_{k}", v) for k, v in logged.__dict__.items())
    written = _sql.CREATE.first(conn, params)
    assert written is not None, "an INSERT … RETURNING without its row"
    record_id, row_id = written
    _writes.message_written(conn, record_id, row_id, msg, absent)
    record = _rows.record_summary_of({"id": record_id, **values})
    return record, replace(logged, record_id=record_id)


def append(
    conn: Connection,
    record_id: int,
    msg: NewMessage,
    reopen: bool,
    logged: ProcessedRow,
    absent: Absent | None,
) -> ProcessedRow:
    """Raises :class:`RecordNotFound` (nothing written) when the record is gone."""
    now = logged.processed_at
    if conn.dialect.name != "postgresql":
        was = conn.execute(_sql.STATUS, {"b_id": record_id}).scalar() if reopen else None
        _writes.touch_record(conn, record_id, reopen=reopen, now=now)
        if was is not None and was != "open":
            _writes.reopened(conn, record_id, was, now)
        _writes.insert_message(conn, record_id, msg, now, absent)
        _sql.INSERT_LOG.rowcount(conn, logged.__dict__)
        return logged
    params = {"t_id": record_id, "t_now": now}
    params.update((f"m_{k}", v) for k, v in _rows.message_values(msg, record_id, now).items())
    params.update((f"l_{k}", v) for k, v in logged.__dict__.items())
    written = (_sql.APPEND_REOPEN if reopen else _sql.APPEND).first(conn, params)
    if written is None:
        raise _writes.gone(record_id)
    _writes.message_written(conn, record_id, int(written[0]), msg, absent)
    return logged
