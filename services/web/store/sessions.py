"""Server-side sessions (only the token's sha256 is stored) and failed sign-ins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, true, update

from libs.common.db import StoreBase
from libs.common.db.schema import console_login_failures, console_sessions
from services.web.store.models import SessionRow


def _session_of(row: Any) -> SessionRow:
    return SessionRow(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        csrf_secret=row.csrf_secret,
    )


class Sessions(StoreBase):
    def open_session(
        self, user_id: int, token_sha256: str, csrf_secret: str, expires_at: datetime
    ) -> None:
        now = self._clock()
        with self._write() as conn:
            conn.execute(
                insert(console_sessions).values(
                    token_sha256=token_sha256,
                    user_id=user_id,
                    csrf_secret=csrf_secret,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires_at,
                )
            )

    def session(self, token_sha256: str) -> SessionRow | None:
        with self._read() as conn:
            row = conn.execute(
                select(console_sessions).where(console_sessions.c.token_sha256 == token_sha256)
            ).first()
        return _session_of(row) if row is not None else None

    def touch_session(self, session_id: int) -> None:
        with self._write() as conn:
            conn.execute(
                update(console_sessions)
                .where(console_sessions.c.id == session_id)
                .values(last_seen_at=self._clock())
            )

    def end_session(self, session_id: int) -> None:
        with self._write() as conn:
            conn.execute(delete(console_sessions).where(console_sessions.c.id == session_id))

    def end_sessions_of(self, user_id: int, *, keep: int | None = None) -> int:
        """End every session of ``user_id`` but ``keep``; how many ended."""
        where = [console_sessions.c.user_id == user_id]
        if keep is not None:
            where.append(console_sessions.c.id != keep)
        with self._write() as conn:
            return conn.execute(delete(console_sessions).where(*where)).rowcount

    def record_failure(self, username: str, client: str) -> int:
        """A failed sign-in (or one under way: see :meth:`Accounts.sign_in`); its row's id."""
        with self._write() as conn:
            result = conn.execute(
                insert(console_login_failures).values(
                    username=username, client=client[:64], failed_at=self._clock()
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def forget_failure(self, failure_id: int) -> None:
        table = console_login_failures
        with self._write() as conn:
            conn.execute(delete(table).where(table.c.id == failure_id))

    def failures_since(
        self, username: str, client: str, since: datetime, *, besides: int | None = None
    ) -> tuple[list[datetime], list[datetime]]:
        """The failed sign-ins since ``since`` (but the row ``besides``): for ``username``, and
        from ``client``. Older rows are pruned on the way."""
        table = console_login_failures
        others = table.c.id != besides if besides is not None else true()
        with self._write() as conn:
            conn.execute(delete(table).where(table.c.failed_at < since))
            by_user = conn.execute(
                select(table.c.failed_at).where(table.c.username == username, others)
            ).scalars()
            users = list(by_user)
            by_client = conn.execute(
                select(table.c.failed_at).where(table.c.client == client[:64], others)
            ).scalars()
            return users, list(by_client)

    def clear_failures(self, username: str) -> None:
        """A successful sign-in forgets the username's failures (not the address's)."""
        table = console_login_failures
        with self._write() as conn:
            conn.execute(delete(table).where(table.c.username == username))
