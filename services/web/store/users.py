"""Console accounts: create, read, and change role, password and the disabled flag."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from libs.common.db import StoreBase
from libs.common.db.schema import console_users
from services.web.store.models import User, UsernameTaken


def user_of(row: Any) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        disabled=row.disabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        password_hash=row.password_hash,
        personal_email=row.personal_email,
    )


class Users(StoreBase):
    def create_user(self, username: str, display_name: str, role: str, password_hash: str) -> User:
        """A new account; :class:`UsernameTaken` when the (lower-cased) username is used."""
        now = self._clock()
        values = {
            "username": username,
            "display_name": display_name,
            "role": role,
            "password_hash": password_hash,
            "disabled": False,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._write() as conn:
                conn.execute(insert(console_users).values(**values))
        except IntegrityError:
            raise UsernameTaken(username) from None
        found = self.user_by_username(username)
        assert found is not None
        return found

    def user_by_username(self, username: str) -> User | None:
        with self._read() as conn:
            row = conn.execute(
                select(console_users).where(console_users.c.username == username)
            ).first()
        return user_of(row) if row is not None else None

    def user(self, user_id: int) -> User | None:
        with self._read() as conn:
            row = conn.execute(select(console_users).where(console_users.c.id == user_id)).first()
        return user_of(row) if row is not None else None

    def users(self) -> list[User]:
        with self._read() as conn:
            rows = conn.execute(select(console_users).order_by(console_users.c.username)).all()
        return [user_of(row) for row in rows]

    def active_admins(self) -> int:
        with self._read() as conn:
            count = conn.execute(
                select(func.count()).where(
                    console_users.c.role == "admin", console_users.c.disabled.is_(False)
                )
            ).scalar_one()
        return int(count)

    def change_keeping_an_admin(self, user_id: int, **values: Any) -> bool:
        """:meth:`change_user`, refused (``False``) when it would disable or demote the last
        active admin. The active admins are locked, counted and changed in one transaction, so
        two admins disabling each other at the same moment cannot both succeed."""
        table = console_users
        active = select(table.c.id).where(table.c.role == "admin", table.c.disabled.is_(False))
        demotes = values.get("disabled") is True or values.get("role", "admin") != "admin"
        with self._write() as conn:
            admins = set(conn.execute(active.with_for_update()).scalars())
            if demotes and user_id in admins and len(admins) <= 1:
                return False
            conn.execute(
                update(table)
                .where(table.c.id == user_id)
                .values(updated_at=self._clock(), **values)
            )
        return True

    def change_user(self, user_id: int, **values: Any) -> None:
        """Set ``role``, ``disabled``, ``password_hash``, ``display_name`` or
        ``personal_email`` of one account."""
        assert set(values) <= {
            "role",
            "disabled",
            "password_hash",
            "display_name",
            "personal_email",
        }
        with self._write() as conn:
            conn.execute(
                update(console_users)
                .where(console_users.c.id == user_id)
                .values(updated_at=self._clock(), **values)
            )
