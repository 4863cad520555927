"""The push subscriptions table (0017): what the fetcher writes, what the endpoint checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from libs.common.db.push_subscriptions import PushSubscriptionStore, state_hash
from libs.common.db.schema_push import push_subscriptions

SECRET = "k" * 43
LATER = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def subs(database_url: str) -> Iterator[PushSubscriptionStore]:
    store = PushSubscriptionStore.open(database_url)
    yield store
    store.close()


def test_a_saved_subscription_checks_its_client_state(subs: PushSubscriptionStore) -> None:
    subs.save("sub-1", "Help@Contoso.com", SECRET, LATER)
    found = subs.find("sub-1")
    assert found is not None
    assert (found.mailbox, found.expires_at) == ("help@contoso.com", LATER)
    assert found.matches(SECRET)
    assert not found.matches(SECRET + "x")
    assert not found.matches("")
    assert subs.find("sub-2") is None


def test_the_secret_itself_is_never_stored(subs: PushSubscriptionStore) -> None:
    subs.save("sub-1", "help@contoso.com", SECRET, LATER)
    with subs.engine.connect() as conn:
        row = conn.execute(select(push_subscriptions)).mappings().one()
    assert SECRET not in {str(v) for v in row.values()}
    assert row["state_hash"] == state_hash(SECRET)
    assert SECRET not in repr(subs.find("sub-1"))


def test_renewed_moves_the_expiry_and_forget_removes(subs: PushSubscriptionStore) -> None:
    subs.save("sub-1", "help@contoso.com", SECRET, LATER)
    subs.save("sub-2", "help@contoso.com", "other", LATER)
    subs.renewed("sub-1", LATER + timedelta(days=1))
    found = subs.find("sub-1")
    assert found is not None and found.expires_at == LATER + timedelta(days=1)
    assert sorted(subs.of_mailbox("HELP@contoso.com")) == ["sub-1", "sub-2"]
    subs.forget("sub-1")
    assert subs.find("sub-1") is None
    assert subs.of_mailbox("help@contoso.com") == ["sub-2"]


def test_saving_again_replaces_the_state(subs: PushSubscriptionStore) -> None:
    subs.save("sub-1", "help@contoso.com", SECRET, LATER)
    subs.save("sub-1", "help@contoso.com", "new-secret", LATER)
    found = subs.find("sub-1")
    assert found is not None and found.matches("new-secret") and not found.matches(SECRET)
