"""The integrations repository: the console's mailboxes and Entra apps in the shared database.

Plain data in and out (:mod:`libs.common.integration_rules`); secrets sealed by a
:class:`~libs.common.secret_box.SecretBox` before they are written and opened only by
:meth:`Integrations.to_mailbox_configs`, which builds the services' configuration. Every write
first bumps the one row of ``integrations_revision`` in its transaction: :meth:`revision` is
then one cheap query that tells a service something changed (a delete too), and writers are
serialised, so the checks below (one default, a unique name and address) see every other write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Row

from libs.common.db._base import StoreBase
from libs.common.db.errors import StoreError
from libs.common.db.schema_integrations import (
    integration_checks,
    integrations,
    integrations_revision,
)
from libs.common.integration_rules import (
    Integration,
    IntegrationFields,
    IntegrationInvalid,
    check_one_default,
    checked,
    mailbox_config,
)
from libs.common.secret_box import SecretBox
from libs.common.settings import MailboxConfig

_FIELDS = tuple(f.name for f in dataclasses.fields(IntegrationFields) if f.name != "secret")
_LISTS = ("ignore_senders", "send_as")


class IntegrationNotFound(StoreError):
    code = "integration_not_found"


@dataclass(frozen=True)
class LastCheck:
    """The last "Test connection" of an integration: each step as ``{"step", "ok", "detail",
    "fix"}`` (``ok`` ``None``: skipped or not provable without sending)."""

    checked_at: datetime
    ok: bool
    steps: tuple[dict[str, Any], ...]


def _integration(row: Row[Any]) -> Integration:
    values = {name: getattr(row, name) for name in _FIELDS}
    for name in _LISTS:
        values[name] = tuple(values[name] or ())
    return Integration(
        id=int(row.id),
        fields=IntegrationFields(**values),
        revision=int(row.revision),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _bump(conn: Connection) -> int:
    """The next revision, written: the first statement of every change."""
    table = integrations_revision
    conn.execute(update(table).where(table.c.id == 1).values(revision=table.c.revision + 1))
    return int(conn.execute(select(table.c.revision).where(table.c.id == 1)).scalar_one())


class Integrations(StoreBase):
    """Integrations on one database (SQLite or PostgreSQL)."""

    def revision(self) -> int:
        """The revision of the newest change of any integration (0: never changed)."""
        with self._read() as conn:
            query = select(integrations_revision.c.revision).where(integrations_revision.c.id == 1)
            return int(conn.execute(query).scalar_one())

    def list(self) -> tuple[Integration, ...]:
        with self._read() as conn:
            rows = conn.execute(select(integrations).order_by(integrations.c.id)).all()
        return tuple(_integration(row) for row in rows)

    def get(self, ident: int) -> Integration | None:
        with self._read() as conn:
            row = conn.execute(select(integrations).where(integrations.c.id == ident)).first()
        return None if row is None else _integration(row)

    def find(self, address: str) -> Integration | None:
        """The integration of mailbox ``address`` (any case)."""
        with self._read() as conn:
            query = select(integrations).where(integrations.c.address == address.lower())
            row = conn.execute(query).first()
        return None if row is None else _integration(row)

    def save(
        self, fields: IntegrationFields, box: SecretBox, ident: int | None = None
    ) -> Integration:
        """Create (``ident`` ``None``) or update an integration; :class:`IntegrationInvalid`
        for a wrong field. An update without a ``secret`` keeps the stored one; the default
        moves to this integration when it is saved as the default."""
        with self._write() as conn:
            revision = _bump(conn)
            before = self._row(conn, ident) if ident is not None else None
            same_kind = before is not None and before.credential_kind == fields.credential_kind
            fields = checked(fields, stored_secret=same_kind)
            _refuse_taken(conn, fields, ident)
            values = {name: getattr(fields, name) for name in _FIELDS}
            values.update({name: list(values[name]) for name in _LISTS})
            values.update(revision=revision, updated_at=self._clock())
            if fields.secret is not None:
                values["sealed_secret"] = box.seal(fields.secret)
            if fields.is_default:
                _take_default(conn, revision, ident)
            if ident is None:
                values["created_at"] = values["updated_at"]
                ident = _insert(conn, values)
            else:
                query = update(integrations).where(integrations.c.id == ident)
                conn.execute(query.values(**values))
            _check_defaults(conn)
            return _integration(self._row(conn, ident))

    def delete(self, ident: int) -> bool:
        """Delete one integration; ``False`` when there was none."""
        with self._write() as conn:
            _bump(conn)
            done = conn.execute(delete(integrations).where(integrations.c.id == ident))
            checks = integration_checks
            conn.execute(delete(checks).where(checks.c.integration_id == ident))
            return bool(done.rowcount)

    def record_check(self, ident: int, steps: Sequence[dict[str, Any]]) -> LastCheck:
        """Keep ``steps`` as the last test of ``ident`` (the one before is replaced); ``ok``
        when no step failed. Not a change of the integration: the revision stays."""
        checks = integration_checks
        last = LastCheck(self._clock(), all(s.get("ok") is not False for s in steps), tuple(steps))
        with self._write() as conn:
            self._row(conn, ident)
            conn.execute(delete(checks).where(checks.c.integration_id == ident))
            values = {"checked_at": last.checked_at, "ok": last.ok, "steps": list(steps)}
            conn.execute(insert(checks).values(integration_id=ident, **values))
        return last

    def last_checks(self) -> dict[int, LastCheck]:
        """The last test of every integration that had one, by id."""
        with self._read() as conn:
            rows = conn.execute(select(integration_checks)).all()
        return {
            int(r.integration_id): LastCheck(r.checked_at, bool(r.ok), tuple(r.steps)) for r in rows
        }

    def set_default(self, ident: int) -> None:
        """Make ``ident`` the one default integration."""
        with self._write() as conn:
            revision = _bump(conn)
            self._row(conn, ident)
            _take_default(conn, revision, ident)
            query = update(integrations).where(integrations.c.id == ident)
            conn.execute(query.values(is_default=True, revision=revision))

    def to_mailbox_configs(self, box: SecretBox) -> tuple[MailboxConfig, ...]:
        """The services' mailboxes: every ENABLED integration, its secret opened."""
        with self._read() as conn:
            query = select(integrations).where(integrations.c.enabled.is_(True))
            rows = conn.execute(query.order_by(integrations.c.id)).all()
        return tuple(
            mailbox_config(_integration(row).fields, box.open(row.sealed_secret)) for row in rows
        )

    def mailbox_config_of(self, ident: int, box: SecretBox) -> MailboxConfig:
        """The service configuration of one integration (enabled or not), its secret opened."""
        with self._read() as conn:
            row = self._row(conn, ident)
        return mailbox_config(_integration(row).fields, box.open(row.sealed_secret))

    @staticmethod
    def _row(conn: Connection, ident: int) -> Row[Any]:
        row = conn.execute(select(integrations).where(integrations.c.id == ident)).first()
        if row is None:
            raise IntegrationNotFound(
                f"integration {ident} does not exist",
                hint="list them with `mailpipe config list`",
            )
        return row


def _insert(conn: Connection, values: dict[str, Any]) -> int:
    key = conn.execute(insert(integrations).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _refuse_taken(conn: Connection, fields: IntegrationFields, ident: int | None) -> None:
    """A name or mailbox another integration has is refused (before the unique index would)."""
    for column, value in (("name", fields.name), ("address", fields.address)):
        query = select(integrations.c.id).where(integrations.c[column] == value)
        other = conn.execute(query).scalar()
        if other is not None and other != ident:
            raise IntegrationInvalid(column, f"integration {other} already has {value!r}")


def _take_default(conn: Connection, revision: int, ident: int | None) -> None:
    query = update(integrations).where(integrations.c.is_default.is_(True))
    if ident is not None:
        query = query.where(integrations.c.id != ident)
    conn.execute(query.values(is_default=False, revision=revision))


def _check_defaults(conn: Connection) -> None:
    rows = conn.execute(select(integrations.c.id, integrations.c.is_default)).all()
    check_one_default((int(r.id), bool(r.is_default)) for r in rows)
