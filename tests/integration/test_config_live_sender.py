"""The sender follows integration changes without a restart: the sender as ``wire`` builds it,
on ``MAILPIPE_CONFIG_SOURCE=database`` (SQLite and PostgreSQL), the simulator and a real
RabbitMQ namespace; a job arriving after an agent is removed from the send-as list is refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from libs.common.broker import Broker
from libs.common.config_source import service_config, watcher
from libs.common.config_watch import ConfigWatcher
from libs.common.db.integrations import Integrations
from libs.common.secret_box import SecretBox, new_key
from libs.common.service import Runtime
from libs.common.settings import Settings
from libs.graphsim.testing import SimHandle
from services.sender.app import wire
from services.sender.config import SenderSettings
from tests.integration.test_config_live import integration
from tests.integration.test_config_source import _sim_graph
from tests.integration.test_sender_support import (
    MAILBOX,
    Results,
    make_job,
    publish_job,
    set_send_as,
)

AGENT = "alice@contoso.com"


@dataclass
class LiveSender:
    store: Integrations
    key: SecretBox
    ident: int
    watcher: ConfigWatcher
    sim: SimHandle

    def send_as(self, *agents: str) -> None:
        """The integration saved with these agents (none: personal profiles not allowed)."""
        fields = integration(
            self.sim, MAILBOX, send_as=agents, allow_personal_profiles=bool(agents)
        )
        self.store.save(fields, self.key, self.ident)


@pytest.fixture
def live_sender(
    sim: SimHandle, broker: Broker, database_url: str, tmp_path: Path
) -> Iterator[LiveSender]:
    key = new_key()
    settings = Settings(
        database_url=SecretStr(database_url),
        config_source="database",
        secrets_key=SecretStr(key),
        config=_sim_graph(sim, tmp_path / "graph.toml"),
        blob_dir=tmp_path / "blobs",
    )
    store = Integrations.open(database_url)
    first = integration(sim, MAILBOX, send_as=(AGENT,), allow_personal_profiles=True)
    ident = store.save(first, SecretBox(key)).id
    config = service_config(settings, wait=False)
    config_watcher, close_watcher = watcher(settings, config)
    assert config_watcher is not None
    stop = threading.Event()
    runtime = Runtime("sender", settings, config, broker, stop, watcher=config_watcher)
    # The test broker's retry tiers are short: a claim goes stale within them.
    wiring = wire(runtime, SenderSettings(stale_claim_s=0.4))
    threads = [threading.Thread(target=fn, name=name) for name, fn in wiring.loops]
    for thread in threads:
        thread.start()
    try:
        yield LiveSender(store, SecretBox(key), ident, config_watcher, sim)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        wiring.close()
        close_watcher()
        store.close()


def test_a_send_as_is_refused_once_the_agent_is_removed(
    sim: SimHandle, broker: Broker, results: Results, live_sender: LiveSender
) -> None:
    set_send_as(sim, [AGENT])  # Exchange allows it throughout: mailpipe's policy decides
    publish_job(broker, make_job("job-before", from_address=AGENT))
    before = results.wait_for("job-before")
    assert before.status == "sent" and before.sent_as == AGENT

    live_sender.send_as()  # the agent removed in the console
    change = live_sender.watcher.check()
    assert change is not None and [b.address for b in change.changed] == [MAILBOX]
    publish_job(broker, make_job("job-after", from_address=AGENT))
    after = results.wait_for("job-after")
    assert after.status == "rejected" and after.error_code == "send_as_not_allowed"
