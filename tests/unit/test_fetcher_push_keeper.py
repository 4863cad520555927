"""The subscription keeper against the shared mail fake: subscribes once the lease is held,
renews at half the lifetime Graph granted, recreates a removed subscription (and asks for a
round), reauthorizes, drops what is no longer ours, and keeps polling as before when Graph
refuses the subscription."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from libs.common.contracts import MailboxChanged
from libs.common.mail import MailUnavailable
from libs.common.push_settings import PushConfig
from services.fetcher.push import SubscriptionKeeper
from services.notify.domain.notifications import Reason
from tests.mail_fake import FakeMailbox
from tests.mail_fake_subscriptions import SubscriptionRefused

BOX = "help@contoso.com"
PUSH = PushConfig(public_url="https://hooks.example.com/graph/", safety_interval_s=300)


class Book:
    """The subscriptions as the endpoint would find them: id → (mailbox, state, expiry)."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, str, datetime]] = {}

    def save(
        self, subscription_id: str, mailbox: str, client_state: str, expires: datetime
    ) -> None:
        self.rows[subscription_id] = (mailbox, client_state, expires)

    def renewed(self, subscription_id: str, expires: datetime) -> None:
        mailbox, state, _ = self.rows[subscription_id]
        self.rows[subscription_id] = (mailbox, state, expires)

    def forget(self, subscription_id: str) -> None:
        self.rows.pop(subscription_id, None)


class Rig:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
        self.ticks = 0.0
        self.fake = FakeMailbox(address=BOX, now=lambda: self.now)
        self.book = Book()
        self.held = True
        self.hurried: list[str] = []
        self.keeper = SubscriptionKeeper(
            PUSH,
            lambda _: self.fake,
            self.book,
            lambda _: self.held,
            self.hurried.append,
            clock=lambda: self.now,
            ticks=lambda: self.ticks,
        )
        self.keeper.use(PUSH, {BOX: "inbox"})

    @property
    def sub_id(self) -> str | None:
        return self.keeper.kept[BOX].subscription_id

    def hint(self, reason: Reason, sub_id: str | None = None) -> None:
        self.keeper.on_hint(
            MailboxChanged(
                mailbox=BOX,
                reason=reason,
                subscription_id=sub_id or self.sub_id or "",
                occurred_at=self.now,
            )
        )


@pytest.fixture
def rig() -> Rig:
    return Rig()


def test_subscribes_once_with_a_secret_the_book_holds(rig: Rig) -> None:
    assert rig.keeper.interval(BOX, 30.0) == 30.0, "polled as before until push lives"
    rig.keeper.tend()
    rig.keeper.tend()
    assert list(rig.fake.subscriptions) == [rig.sub_id]
    sub = rig.fake.subscriptions[rig.sub_id or ""]
    assert sub.notification_url == "https://hooks.example.com/graph/notifications"
    assert sub.lifecycle_url == "https://hooks.example.com/graph/lifecycle"
    mailbox, state, expires = rig.book.rows[sub.id]
    assert (mailbox, state, expires) == (BOX, sub.client_state, sub.expires_at)
    assert len(state) >= 32
    assert rig.keeper.interval(BOX, 30.0) == 300.0, "the safety interval while push lives"
    assert rig.hurried == [BOX], "a round at once for what came before the subscription"
    assert rig.keeper.status(BOX) == "push alive"


def test_two_mailboxes_get_different_secrets() -> None:
    rig = Rig()
    other = FakeMailbox(address="sales@contoso.com")
    boxes = {BOX: rig.fake, "sales@contoso.com": other}
    keeper = SubscriptionKeeper(
        PUSH, boxes.__getitem__, rig.book, lambda _: True, rig.hurried.append
    )
    keeper.use(PUSH, {BOX: "inbox", "sales@contoso.com": "inbox"})
    keeper.tend()
    states = {state for _, state, _ in rig.book.rows.values()}
    assert len(rig.book.rows) == 2 and len(states) == 2


def test_renews_at_half_the_granted_lifetime(rig: Rig) -> None:
    rig.fake.max_lifetime = timedelta(hours=2)  # Graph grants less than asked: that counts
    rig.keeper.tend()
    first = rig.fake.subscriptions[rig.sub_id or ""].expires_at
    assert first == rig.now + timedelta(hours=2)
    rig.now += timedelta(minutes=59)
    rig.keeper.tend()
    assert not any(c.startswith("renew") for c in rig.fake.calls)
    rig.now += timedelta(minutes=1)
    rig.keeper.tend()
    assert rig.fake.calls[-1] == f"renew:{rig.sub_id}"
    assert rig.book.rows[rig.sub_id or ""][2] == rig.now + timedelta(hours=2)


def test_a_removed_subscription_is_recreated_on_renewal(rig: Rig) -> None:
    rig.keeper.tend()
    old = rig.sub_id or ""
    rig.fake.remove_subscription(old)
    rig.now += timedelta(days=2)
    rig.keeper.tend()
    assert rig.sub_id not in (None, old)
    assert old not in rig.book.rows and rig.sub_id in rig.book.rows


def test_the_removed_lifecycle_event_recreates_and_asks_for_a_round(rig: Rig) -> None:
    rig.keeper.tend()
    old = rig.sub_id or ""
    rig.fake.remove_subscription(old)
    rig.hurried.clear()
    rig.hint("removed")
    assert rig.hurried == [BOX], "a delta round at once"
    rig.keeper.tend()
    assert rig.sub_id not in (None, old)
    assert list(rig.book.rows) == [rig.sub_id]


def test_reauthorization_required_is_answered(rig: Rig) -> None:
    rig.keeper.tend()
    rig.hint("reauthorize")
    rig.keeper.tend()
    assert rig.fake.subscriptions[rig.sub_id or ""].reauthorized == 1
    rig.keeper.tend()
    assert rig.fake.subscriptions[rig.sub_id or ""].reauthorized == 1, "once"


def test_missed_and_created_ask_for_a_round(rig: Rig) -> None:
    rig.keeper.tend()
    rig.hurried.clear()
    rig.hint("missed")
    rig.hint("created")
    assert rig.hurried == [BOX, BOX]
    assert len(rig.fake.calls) == 1, "no Graph call for them"


def test_a_hint_of_an_old_subscription_still_asks_for_a_round_only(rig: Rig) -> None:
    rig.keeper.tend()
    rig.hurried.clear()
    rig.hint("removed", sub_id="some-other")
    rig.keeper.tend()
    assert rig.hurried == [BOX]
    assert rig.fake.calls == [f"subscribe:{rig.sub_id}"], "the live one is kept"


def test_a_refused_subscription_keeps_polling_and_says_why(rig: Rig) -> None:
    rig.fake.refuse_with.extend(
        [SubscriptionRefused("no answer", hint="expose the URL"), MailUnavailable("x")]
    )
    rig.keeper.tend()
    assert rig.sub_id is None
    assert rig.keeper.interval(BOX, 30.0) == 30.0
    assert rig.keeper.status(BOX) == "push off (ValidationError): expose the URL"
    rig.keeper.tend()
    assert rig.fake.refuse_with, "not tried again before its backoff"
    rig.ticks += 30
    rig.keeper.tend()  # the second try fails as well (unavailable), the third succeeds
    rig.ticks += 60
    rig.keeper.tend()
    assert rig.sub_id is not None and rig.keeper.status(BOX) == "push alive"


def test_a_lost_lease_drops_the_subscription(rig: Rig) -> None:
    rig.keeper.tend()
    sub_id = rig.sub_id
    rig.held = False
    rig.keeper.tend()
    assert rig.sub_id is None and not rig.fake.subscriptions and not rig.book.rows
    assert rig.fake.calls[-1] == f"unsubscribe:{sub_id}"
    assert rig.keeper.interval(BOX, 30.0) == 30.0
    rig.held = True
    rig.keeper.tend()
    assert rig.sub_id is not None


def test_a_mailbox_no_longer_pushed_is_dropped(rig: Rig) -> None:
    rig.keeper.tend()
    rig.keeper.use(PUSH, {})
    rig.keeper.tend()
    assert not rig.fake.subscriptions and not rig.book.rows and BOX not in rig.keeper.kept
    rig.keeper.use(None, {BOX: "inbox"})
    rig.keeper.tend()
    assert not rig.fake.subscriptions, "no [push]: nothing subscribed"


def test_a_new_watched_folder_moves_the_subscription(rig: Rig) -> None:
    rig.keeper.tend()
    old = rig.sub_id or ""
    rig.keeper.use(PUSH, {BOX: "Support"})
    rig.keeper.tend()
    assert rig.sub_id not in (None, old)
    assert [s.folder for s in rig.fake.subscriptions.values()] == ["Support"]
    assert list(rig.book.rows) == [rig.sub_id]
    rig.keeper.use(PUSH, {BOX: "Support"})
    rig.keeper.tend()
    assert list(rig.book.rows) == [rig.sub_id], "the same folder again: nothing moves"


def test_stopping_deletes_every_subscription(rig: Rig) -> None:
    rig.keeper.tend()
    rig.keeper.drop_all()
    assert not rig.fake.subscriptions and not rig.book.rows


def finds(address: str) -> float:
    value = REGISTRY.get_sample_value(
        "mailpipe_fetcher_push_safety_finds_total", {"mailbox": address}
    )
    return value or 0.0


def test_mail_a_safety_round_finds_while_push_lives_is_counted(rig: Rig) -> None:
    before = finds(BOX)
    rig.keeper.turn_started(BOX, hinted=False)
    rig.keeper.published(BOX, 3)
    assert finds(BOX) == before, "push not alive yet: a normal round"
    rig.keeper.tend()
    rig.keeper.turn_started(BOX, hinted=True)
    rig.keeper.published(BOX, 2)
    assert finds(BOX) == before, "a hint's round found what the notification announced"
    # The hinted turn ran no round (lease rechecked, no interval asked): the next answers it.
    rig.keeper.turn_started(BOX, hinted=False)
    rig.keeper.published(BOX, 1)
    assert finds(BOX) == before, "the turn right after a hinted one still answers its hint"
    rig.keeper.interval(BOX, 60.0)  # that turn's round ran: the hint is answered
    rig.keeper.turn_started(BOX, hinted=False)
    rig.keeper.published(BOX, 4)
    assert finds(BOX) == before + 4, "the safety round found mail no notification announced"


def test_no_maximum_lifetime_is_assumed_a_refused_expiry_is_asked_shorter(rig: Rig) -> None:
    rig.fake.max_lifetime, rig.fake.refuse_beyond = timedelta(hours=30), True
    rig.keeper.tend()
    assert rig.sub_id is not None, "refused for a week and 4,200 minutes, granted a day"
    assert rig.fake.calls == ["refused:expiry", "refused:expiry", f"subscribe:{rig.sub_id}"]
    granted = rig.fake.subscriptions[rig.sub_id].expires_at
    assert granted == rig.now + timedelta(days=1)
    rig.now += timedelta(hours=12)  # half the granted lifetime: renewed, asking a day at once
    rig.keeper.tend()
    assert rig.fake.calls[-1] == f"renew:{rig.sub_id}" and len(rig.fake.calls) == 4


def test_a_longer_lifetime_granted_is_used_as_granted(rig: Rig) -> None:
    rig.fake.max_lifetime = timedelta(days=30)  # more than Graph's documented maximum
    rig.keeper.tend()
    assert rig.book.rows[rig.sub_id or ""][2] == rig.now + timedelta(days=7)
    rig.now += timedelta(days=3)
    rig.keeper.tend()
    assert not any(c.startswith("renew") for c in rig.fake.calls), "half of a week is 3.5 days"


def test_every_lifetime_refused_is_a_typed_error_and_polling_goes_on(rig: Rig) -> None:
    rig.fake.max_lifetime, rig.fake.refuse_beyond = timedelta(minutes=10), True
    rig.keeper.tend()
    assert rig.sub_id is None and rig.fake.calls.count("refused:expiry") == 4
    assert rig.keeper.status(BOX).startswith("push off (lifetime_refused): check the server")
    assert rig.keeper.interval(BOX, 30.0) == 30.0


def test_failed_renewals_back_off_and_a_gone_one_is_recreated(rig: Rig) -> None:
    rig.fake.max_lifetime = timedelta(hours=2)
    rig.keeper.tend()
    sub_id = rig.sub_id
    rig.fake.renew_fails_with.extend([MailUnavailable("x"), MailUnavailable("y")])
    rig.now += timedelta(hours=1)
    for _ in range(5):  # many passes, one try: the next waits for its backoff
        rig.keeper.tend()
    assert rig.fake.calls.count(f"renew-failed:{sub_id}") == 1
    rig.ticks += 30
    rig.keeper.tend()
    rig.keeper.tend()
    assert rig.fake.calls.count(f"renew-failed:{sub_id}") == 2, "then 60 s"
    rig.ticks += 60
    rig.keeper.tend()
    assert rig.fake.calls[-1] == f"renew:{sub_id}" and rig.sub_id == sub_id
    rig.fake.remove_subscription(sub_id or "")
    rig.now += timedelta(hours=1)
    rig.keeper.tend()
    assert rig.sub_id not in (None, sub_id), "a renewal answered not found: made again"


def test_each_safety_interval_checks_the_subscription_still_exists(rig: Rig) -> None:
    rig.keeper.tend()
    sub_id = rig.sub_id or ""
    rig.ticks += 299
    rig.keeper.tend()
    assert not any(c.startswith("read:") for c in rig.fake.calls), "not before the interval"
    rig.ticks += 1
    rig.keeper.tend()
    assert rig.fake.calls[-1] == f"read:{sub_id}" and rig.sub_id == sub_id
    rig.fake.remove_subscription(sub_id)  # silently, no lifecycle event
    rig.hurried.clear()
    rig.ticks += 300
    rig.keeper.tend()
    assert rig.sub_id not in (None, sub_id) and list(rig.book.rows) == [rig.sub_id]
    assert rig.hurried == [BOX], "a delta round for what the gap missed"
