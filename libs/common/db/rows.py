"""Row helpers every repository uses: Message-ID and address normalisation, row access."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, RowMapping
from sqlalchemy.engine import CursorResult

from libs.common.msgid import canonical_message_id


def norm_mid(value: str | None) -> str | None:
    """A Message-ID as stored and looked up: :func:`libs.common.msgid.canonical_message_id`,
    the one form every contract and table uses (Graph gives ``<id@host>``; some callers strip
    the brackets; a few senders write ids longer than a column)."""
    return canonical_message_id(value)


def norm_mids(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        mid = norm_mid(value)
        if mid is not None and mid not in out:
            out.append(mid)
    return out


def norm_address(value: str) -> str:
    """Addresses compare case-insensitively (the domain must; local parts do in practice)."""
    return value.strip().lower()


def mapping(row: Row[Any]) -> RowMapping:
    """A row's columns by name."""
    return row._mapping


def new_id(result: CursorResult[Any]) -> int:
    """The generated primary key of a one-row INSERT."""
    key = result.inserted_primary_key
    assert key is not None, "an INSERT without a generated key"
    return int(key[0])
