"""Integration changes without a restart: a running fetcher on ``MAILPIPE_CONFIG_SOURCE=database``
(its loops on threads, the simulator, a real RabbitMQ namespace, SQLite and PostgreSQL) picks up
an added integration, stops polling a disabled one, uses a changed secret for a new token, and
keeps polling through a database outage during the check."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr
from sqlalchemy import create_engine

from libs.common.broker.leasebook import LeaseBook
from libs.common.config_source import service_config, watcher
from libs.common.config_watch import ConfigWatcher
from libs.common.contracts import InboundEmail
from libs.common.db.integrations import Integrations
from libs.common.integration_rules import IntegrationFields
from libs.common.mail import MailAuthError, open_probe
from libs.common.secret_box import SecretBox, new_key
from libs.common.settings import Settings
from libs.graphsim.testing import SimHandle
from services.fetcher.service import Fetcher
from tests.integration.fetcher_rig import HELPDESK, SUPPORT, Rig, mail, open_rig, until
from tests.integration.test_config_source import _sim_graph
from tests.integration.test_fetcher_leases import fewest_consumers

POLL_S = 0.2


@dataclass
class Live:
    rig: Rig
    store: Integrations
    key: SecretBox
    watcher: ConfigWatcher
    fetcher: Fetcher
    ids: dict[str, int]
    #: Every mail read from the ticketer queue so far (reading drains it).
    seen: list[InboundEmail] = dataclasses.field(default_factory=list)

    def fields(self, address: str, **changes: object) -> IntegrationFields:
        return integration(self.rig.sim, address, **changes)

    def save(self, address: str, **changes: object) -> None:
        saved = self.store.save(self.fields(address, **changes), self.key, self.ids.get(address))
        self.ids[address] = saved.id

    def requests(self, mailbox: str) -> int:
        return int(self.rig.stats()["mailbox_requests"].get(mailbox, 0))

    def published_from(self, mailbox: str) -> bool:
        self.seen.extend(self.rig.inbound())
        return any(email.mailbox == mailbox for email in self.seen)


def integration(sim: SimHandle, address: str, **changes: object) -> IntegrationFields:
    """An integration of ``address`` with the simulator's working credential."""
    fields = IntegrationFields(
        name=address,
        address=address,
        tenant_id=sim.tenant_id,
        client_id=sim.client_id,
        secret=SecretStr(sim.client_secret),
        poll_interval_s=POLL_S,
    )
    return dataclasses.replace(fields, **changes)  # type: ignore[arg-type]


@pytest.fixture
def live(
    sim: SimHandle, amqp_url: str, namespace: str, database_url: str, tmp_path: Path
) -> Iterator[Live]:
    key = new_key()
    settings = Settings(
        database_url=SecretStr(database_url),
        config_source="database",
        secrets_key=SecretStr(key),
        config=_sim_graph(sim, tmp_path / "graph.toml"),
    )
    store = Integrations.open(database_url)
    with open_rig(sim, amqp_url, namespace, database_url, tmp_path / "blobs") as rig:
        first = store.save(integration(sim, SUPPORT), SecretBox(key))
        config = service_config(settings, wait=False)
        config_watcher, close_watcher = watcher(settings, config)
        assert config_watcher is not None
        fetcher = Fetcher(config, rig.broker, rig.state, rig.blobs, grows=True)
        rig.made.append(fetcher)
        config_watcher.subscribe(fetcher.apply)
        made = Live(rig, store, SecretBox(key), config_watcher, fetcher, {SUPPORT: first.id})
        stop = threading.Event()
        threads = [threading.Thread(target=fn, name=n) for n, fn in made.fetcher.loops(stop)]
        for thread in threads:
            thread.start()
        try:
            yield made
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            close_watcher()
            store.close()


def test_an_added_integration_is_polled_and_its_mail_published(live: Live) -> None:
    live.rig.seed(mail(1, to=HELPDESK), mailbox=HELPDESK)
    time.sleep(4 * POLL_S)
    assert live.requests(HELPDESK) == 0  # not configured yet
    live.save(HELPDESK)
    change = live.watcher.check()
    assert change is not None and [b.address for b in change.added] == [HELPDESK]
    until(lambda: live.published_from(HELPDESK), 30)
    assert fewest_consumers(live.rig.broker, [HELPDESK]) == 1  # its lease queue, consumed


def test_a_disabled_integration_is_no_longer_polled(live: Live) -> None:
    live.save(HELPDESK)
    live.watcher.check()
    until(lambda: live.requests(HELPDESK) > 0 and live.requests(SUPPORT) > 0, 30)
    live.save(SUPPORT, enabled=False)
    change = live.watcher.check()
    assert change is not None and [b.address for b in change.removed] == [SUPPORT]
    time.sleep(2 * POLL_S)  # a round in flight at the change finishes
    support, helpdesk = live.requests(SUPPORT), live.requests(HELPDESK)
    time.sleep(10 * POLL_S)
    assert live.requests(SUPPORT) == support  # its counter stopped
    assert live.requests(HELPDESK) > helpdesk  # the other goes on
    # Its lease is released and its queue no longer consumed (auto-delete: gone).
    until(lambda: fewest_consumers(live.rig.broker, [SUPPORT]) == 0, 10)
    book = live.fetcher.lease
    assert isinstance(book, LeaseBook) and not book.held(SUPPORT)


def test_mail_in_flight_of_a_disabled_integration_still_finishes(live: Live) -> None:
    live.rig.seed(mail(4))
    until(lambda: live.published_from(SUPPORT), 30)
    [email] = [e for e in live.seen if e.mailbox == SUPPORT]
    live.save(SUPPORT, enabled=False, after_processing="move:Done")
    live.watcher.check()
    live.rig.processed(email)  # the ticketer's answer arrives after the change
    until(lambda: live.rig.folders(SUPPORT).get("inbox") == 0, 30)
    assert live.rig.dead_letters() == []


def test_a_changed_secret_gets_a_new_token_and_the_old_one_is_refused(live: Live) -> None:
    sim = live.rig.sim
    until(lambda: live.requests(SUPPORT) > 0, 30)
    # The secret rotated in Entra: only the new one is accepted from now on.
    new = f"new~{uuid.uuid4().hex}"  # msal's apps are per process: a secret of this test's own
    with sim.control() as control:
        control.post(
            "/_sim/apps",
            json={"tenant_id": sim.tenant_id, "client_id": sim.client_id, "client_secret": new},
        ).raise_for_status()
    tokens = live.rig.stats()["token_requests"]
    live.save(SUPPORT, secret=SecretStr(new))
    change = live.watcher.check()
    assert change is not None and [b.address for b in change.changed] == [SUPPORT]
    live.rig.seed(mail(2))
    until(lambda: live.published_from(SUPPORT), 30)
    assert live.rig.stats()["token_requests"] > tokens  # a token of the new secret
    poller = next(p for p in live.fetcher.pollers if p.address == SUPPORT)
    assert poller.status.ok
    # The old secret is refused now: the rounds above could only work on the new one.
    old = sim.config().mailbox(SUPPORT)
    probe = open_probe(sim.config().graph, old)
    try:
        with pytest.raises(MailAuthError):
            probe.fresh_token()
    finally:
        probe.close()


def test_a_database_outage_during_the_check_keeps_polling(live: Live) -> None:
    down = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")

    def revision() -> int:
        with down.connect():
            return 0

    outage = ConfigWatcher(live.watcher.current, revision, live.watcher.current.model_copy)
    stop = threading.Event()
    with structlog.testing.capture_logs() as logs:
        thread = threading.Thread(target=outage.run, args=(stop,))
        thread.start()
        try:
            time.sleep(2.5)  # one check (the interval is at least 2 s)
            before = live.requests(SUPPORT)
            live.rig.seed(mail(3))
            until(lambda: live.published_from(SUPPORT), 30)
            assert live.requests(SUPPORT) > before
            time.sleep(2.0)  # another failed check: not logged again
        finally:
            stop.set()
            thread.join(timeout=10)
    failed = [e for e in logs if e["event"].startswith("integrations could not be checked")]
    assert len(failed) == 1
    assert outage.current is live.watcher.current
