"""The console's repository: accounts, sessions, failed sign-ins and the audit log.

Open with ``ConsoleStore.open(database_url)`` (the schema is brought up to date, as every
service does at start); thread-safe, one transaction per call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from libs.common.db.schema import console_audit
from services.web.store.models import AuditEntry
from services.web.store.sessions import Sessions
from services.web.store.users import Users


class ConsoleStore(Users, Sessions):
    def ping(self) -> None:
        with self._read() as conn:
            conn.execute(select(1))

    def audit(
        self,
        action: str,
        *,
        actor_id: int | None,
        actor: str,
        target: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """One row of the audit log. ``detail`` must never hold a secret: callers pass names,
        roles, reasons and addresses only."""
        with self._write() as conn:
            conn.execute(
                insert(console_audit).values(
                    at=self._clock(),
                    actor_id=actor_id,
                    actor=actor,
                    action=action,
                    target=target[:200],
                    detail=detail or {},
                )
            )

    def audit_page(self, offset: int, limit: int) -> tuple[list[AuditEntry], int]:
        """Entries newest first, ``limit`` of them from ``offset``; and how many there are."""
        table = console_audit
        with self._read() as conn:
            total = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            rows = conn.execute(
                select(table)
                .order_by(table.c.at.desc(), table.c.id.desc())
                .offset(offset)
                .limit(limit)
            ).all()
        entries = [
            AuditEntry(r.id, r.at, r.actor, r.action, r.target, dict(r.detail)) for r in rows
        ]
        return entries, total
