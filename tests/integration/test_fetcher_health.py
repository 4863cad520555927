"""The fetcher records each mailbox's health in the shared database (table ``mailbox_health``),
against the simulator, RabbitMQ and SQLite / PostgreSQL: a poll round's success, a refused
secret with its hint, throttling counting up then reset by a success; a database that stops
answering never stops the polls."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import SecretStr

from libs.common.db import StoreUnavailable
from libs.common.db.mailbox_health import MailboxHealth, MailboxHealthStore
from services.fetcher.credential import CredentialBackoff
from services.fetcher.health import HealthRecorder
from services.fetcher.service import Fetcher
from services.web.domain.health_status import Signals, status_of
from tests.integration.fetcher_rig import SUPPORT, Rig, mail, until
from tests.integration.test_fetcher_unreadable import fast, faults, poller_of

WRONG_SECRET = "not-the-secret-0123456789"


def recorded(rig: Rig, fetcher: Fetcher) -> MailboxHealth:
    fetcher.health.flush()
    return MailboxHealthStore(rig.state.engine).all()[SUPPORT]


def test_a_round_records_its_success_and_the_mail_it_left(rig: Rig) -> None:
    rig.seed(mail(1))
    fetcher = rig.fetcher(poll_interval_s=30)
    before = datetime.now(UTC)
    assert poller_of(fetcher).poll() is not None
    row = recorded(rig, fetcher)
    assert row.last_success_at is not None and row.last_success_at >= before
    assert (row.consecutive_errors, row.error_code, row.waiting) == (0, None, 0)
    assert row.updated_at is not None
    assert len(rig.inbound()) == 1


def test_a_refused_secret_is_recorded_with_its_hint_and_counts_up(rig: Rig) -> None:
    config = rig.config(poll_interval_s=1)
    boxes = tuple(
        b.model_copy(update={"client_secret": SecretStr(WRONG_SECRET)}) for b in config.mailboxes
    )
    fetcher = rig.fetcher(config.model_copy(update={"mailboxes": boxes}))
    poller = poller_of(fetcher)
    ticks = _Ticks()
    poller.credential = CredentialBackoff(1.0, ticks)
    for second in (0, 1, 3):  # the refused credential's own back-off: 1 s, then 2 s
        ticks.now = float(second)
        assert poller.poll() is None
    row = recorded(rig, fetcher)
    assert row.error_code is not None and "AADSTS7000215" in row.error_code
    assert row.error_kind == "credential" and row.consecutive_errors == 3
    assert "secret" in (row.error_hint or "").lower()
    assert row.last_success_at is None
    stored = MailboxHealthStore(rig.state.engine).all()
    assert WRONG_SECRET not in repr(stored)
    now = datetime.now(UTC)
    signals = Signals(now=now, poll_interval_s=1, consecutive_errors=3, error_kind="credential")
    assert status_of(signals).level == "failing", "red from the round that recorded it"


def test_throttling_counts_up_then_a_success_resets_the_errors(rig: Rig) -> None:
    rig.seed(mail(1))
    fetcher = rig.fetcher(fast(rig, poll_interval_s=30))
    poller = poller_of(fetcher)
    faults(rig, throttle_ratio=1.0, retry_after_s=0)
    try:
        assert poller.poll() is None
        assert recorded(rig, fetcher).consecutive_errors == 1
        assert poller.poll() is None
        failing = recorded(rig, fetcher)
    finally:
        faults(rig, throttle_ratio=0.0)
    assert failing.consecutive_errors == 2 and failing.error_kind == "transient"
    assert failing.error_code and failing.last_error_at is not None
    assert poller.poll() is not None
    healed = recorded(rig, fetcher)
    assert (healed.consecutive_errors, healed.error_code, healed.error_hint) == (0, None, None)
    assert healed.last_success_at is not None and healed.last_error_at == failing.last_error_at


class _Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Outage:
    """The health table's database stops answering while ``down``."""

    def __init__(self, store: MailboxHealthStore) -> None:
        self.store = store
        self.down = True
        self.failed = 0

    def save(self, rows: Iterable[MailboxHealth]) -> int:
        if self.down:
            self.failed += 1
            raise StoreUnavailable("the database does not answer", hint="start it")
        return self.store.save(rows)


def test_a_database_outage_while_recording_does_not_stop_the_poller(rig: Rig) -> None:
    outage = _Outage(MailboxHealthStore(rig.state.engine))
    config = rig.config(poll_interval_s=0.2)
    fetcher = Fetcher(config, rig.broker, rig.state, rig.blobs, health=HealthRecorder(outage))
    rig.made.append(fetcher)
    stop = threading.Event()
    threads = [threading.Thread(target=fn, name=name) for name, fn in fetcher.loops(stop)]
    for thread in threads:
        thread.start()
    try:
        rig.seed(mail(1))
        until(lambda: outage.failed >= 2 and len(rig.inbound()) >= 1)
        rig.seed(mail(2))
        until(lambda: len(rig.inbound()) >= 1, 30)
        outage.down = False
        until(lambda: SUPPORT in outage.store.all(), 30)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert outage.store.all()[SUPPORT].last_success_at is not None


def test_a_restarted_fetcher_keeps_the_last_success_it_did_not_see(rig: Rig) -> None:
    rig.seed(mail(1))
    first = rig.fetcher(poll_interval_s=30)
    assert poller_of(first).poll() is not None
    succeeded = recorded(rig, first).last_success_at
    config = rig.config(poll_interval_s=30)
    boxes = tuple(
        b.model_copy(update={"client_secret": SecretStr(WRONG_SECRET)}) for b in config.mailboxes
    )
    restarted = rig.fetcher(config.model_copy(update={"mailboxes": boxes}))
    assert poller_of(restarted).poll() is None
    row = recorded(rig, restarted)
    assert row.error_kind == "credential" and row.consecutive_errors == 1
    assert row.last_success_at == succeeded is not None
