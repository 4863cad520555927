"""Push subscriptions on the shared database (table ``push_subscriptions``, 0017): the fetcher
that creates a mailbox's change subscription writes it here, the notification endpoint reads
it to tell a notification of ours from a forged one (docs/push.md).

Only a hash of each ``clientState`` is kept: the endpoint compares hashes, and a reader of the
database learns nothing it could sign a notification with."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from libs.common.db._base import StoreBase, upsert
from libs.common.db.rows import norm_address
from libs.common.db.schema_push import push_subscriptions as table


def state_hash(client_state: str) -> str:
    """What is stored of a clientState: its SHA-256 (a random 256-bit secret needs no salt)."""
    return hashlib.sha256(client_state.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PushSubscription:
    subscription_id: str
    mailbox: str
    state_hash: str
    expires_at: datetime

    def __repr__(self) -> str:  # the hash is not a secret, but has no place in logs either
        return f"PushSubscription({self.subscription_id!r}, {self.mailbox!r})"

    def matches(self, client_state: str) -> bool:
        """Whether ``client_state`` is this subscription's (in constant time)."""
        return hmac.compare_digest(state_hash(client_state), self.state_hash)


class PushSubscriptionStore(StoreBase):
    """Open with ``PushSubscriptionStore.open(database_url)`` or on a repository's engine."""

    def save(
        self, subscription_id: str, mailbox: str, client_state: str, expires: datetime
    ) -> None:
        """A new subscription (its clientState hashed here), or a renewed one's expiry."""
        values = {
            "subscription_id": subscription_id,
            "mailbox": norm_address(mailbox),
            "state_hash": state_hash(client_state),
            "expires_at": expires,
            "updated_at": self._clock(),
        }
        with self._write() as conn:
            upsert(
                conn, table, ["subscription_id"], values, ["expires_at", "updated_at", "state_hash"]
            )

    def renewed(self, subscription_id: str, expires: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                table.update()
                .where(table.c.subscription_id == subscription_id)
                .values(expires_at=expires, updated_at=self._clock())
            )

    def find(self, subscription_id: str) -> PushSubscription | None:
        with self._read() as conn:
            row = (
                conn.execute(select(table).where(table.c.subscription_id == subscription_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return PushSubscription(
            str(row["subscription_id"]),
            str(row["mailbox"]),
            str(row["state_hash"]),
            row["expires_at"],
        )

    def of_mailbox(self, mailbox: str) -> list[str]:
        """The ids of the mailbox's stored subscriptions."""
        query = select(table.c.subscription_id).where(table.c.mailbox == norm_address(mailbox))
        with self._read() as conn:
            return [str(sub_id) for (sub_id,) in conn.execute(query).all()]

    def forget(self, subscription_id: str) -> None:
        with self._write() as conn:
            conn.execute(delete(table).where(table.c.subscription_id == subscription_id))
