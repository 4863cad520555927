"""The console's dead-letter page against RabbitMQ in the test's own namespace: counts and one
row per message, retry and drop of a message and of a queue as ``mailpipe dead`` does them,
the audit, a broker that cannot be reached, the agent and a missing CSRF token refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from libs.common.broker import Broker
from libs.common.contracts import ProcessedEmail
from libs.common.db.schema import console_audit
from services.web.app import build_app
from services.web.dead_letters import DeadLetterDesk, broker_letters
from tests.broker_helpers import drain, namespaced_broker
from tests.integration.test_cli_dead import _park_one, _put_foreign_job
from tests.web_rig import ADMIN_PASSWORD, AGENT_PASSWORD, Console, open_console, sign_in


@dataclass
class Rig:
    console: Console
    broker: Broker
    desk: DeadLetterDesk

    def client(self) -> TestClient:
        app = build_app(self.console.accounts, dead_letter_desk=self.desk)
        return TestClient(app, base_url="https://console.test", follow_redirects=False)

    def admin(self) -> TestClient:
        client = self.client()
        assert sign_in(client, "alice", ADMIN_PASSWORD).status_code == 303
        return client

    def audit(self) -> list[tuple[str, str, str]]:
        with self.console.store.engine.connect() as conn:
            rows = conn.execute(select(console_audit).order_by(console_audit.c.id)).all()
        return [(r.action, r.actor, r.target) for r in rows if r.action.startswith("dead")]


@pytest.fixture
def rig(
    database_url: str, amqp_url: str, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Rig]:
    monkeypatch.setenv("MAILPIPE_AMQP_URL", amqp_url)
    monkeypatch.setenv("MAILPIPE_NAMESPACE", namespace)
    with namespaced_broker(amqp_url, namespace) as broker:
        for console in open_console(database_url):
            console.add_user("alice", "admin", ADMIN_PASSWORD)
            console.add_user("bob", "agent", AGENT_PASSWORD)
            yield Rig(console, broker, DeadLetterDesk(broker_letters()))


def token_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert found is not None
    return found.group(1)


def test_the_queues_are_listed_with_counts_and_reasons(rig: Rig) -> None:
    message_id = _park_one(rig.broker)
    _put_foreign_job(rig.broker)
    page = rig.admin().get("/dead-letters")
    assert page.status_code == 200
    text = page.text
    names = rig.broker.names
    assert f"{names.fetcher_processed.dead}: 1 waiting" in text
    assert f"{names.sender.dead}: 1 waiting" in text
    assert f"{names.ticketer.dead}: 0 waiting" in text
    assert message_id in text and "mailbox_not_found" in text and "fix the config" in text
    assert "message_id: msg-0" in text
    assert "foreign-job-0001" in text and "job_id: job-42" in text
    assert "contract_violation" in text
    assert "s3cret" not in text and "hunter2" not in text and "\x1b" not in text
    assert rig.broker.message_count(names.fetcher_processed.dead) == 1  # reading took nothing


def test_retry_of_one_message_puts_it_back_audits_and_confirms(rig: Rig) -> None:
    message_id = _park_one(rig.broker)
    client = rig.admin()
    token = token_of(client.get("/dead-letters"))
    data = {"csrf_token": token, "id": message_id}
    answer = client.post("/dead-letters/fetcher.processed/retry", data=data)
    assert answer.status_code == 303
    after = client.get(answer.headers["location"]).text
    assert "Retried 1 from the fetcher.processed dead-letter queue" in after
    queue = rig.broker.names.fetcher_processed
    assert rig.broker.message_count(queue.dead) == 0
    (back,) = drain(rig.broker, queue.name)
    assert ProcessedEmail.from_json(back.body).message_id == "msg-0"
    assert rig.audit() == [("dead letters retried", "alice", "dead-letter queue fetcher.processed")]
    again = client.post("/dead-letters/fetcher.processed/retry", data=data)
    assert again.status_code == 409 and "left the dead-letter queue meanwhile" in again.text


def test_drop_of_one_message_and_of_a_whole_queue(rig: Rig) -> None:
    _put_foreign_job(rig.broker)
    _put_foreign_job(rig.broker, {"job_id": "job-43"})
    client = rig.admin()
    token = token_of(client.get("/dead-letters"))
    one = {"csrf_token": token, "id": "foreign-job-0001"}
    dropped = client.post("/dead-letters/sender/drop", data=one)
    assert dropped.status_code == 303
    assert "Dropped 2 from the sender" in client.get(dropped.headers["location"]).text
    _put_foreign_job(rig.broker)
    _park_one(rig.broker)
    every = {"csrf_token": token, "every": "yes"}
    unconfirmed = client.post("/dead-letters/fetcher.processed/drop", data=every)
    assert unconfirmed.status_code == 400 and "tick the box" in unconfirmed.text
    assert re.search(r'aria-describedby="(confirm-\d+-error)"', unconfirmed.text)
    assert rig.broker.message_count(rig.broker.names.fetcher_processed.dead) == 1
    confirmed = client.post(
        "/dead-letters/fetcher.processed/drop", data={**every, "confirm": "yes"}
    )
    assert confirmed.status_code == 303
    assert rig.broker.message_count(rig.broker.names.fetcher_processed.dead) == 0
    assert rig.broker.message_count(rig.broker.names.sender.dead) == 1
    retried = client.post("/dead-letters/sender/retry", data=every)
    assert retried.status_code == 303
    notice = client.get(retried.headers["location"]).text
    assert "Retried 1 from the sender" in notice and "under a new job_id" in notice
    assert [a[0] for a in rig.audit()] == ["dead letters dropped"] * 2 + ["dead letters retried"]


def test_an_unreachable_broker_is_said_on_the_page(rig: Rig) -> None:
    rig.desk = DeadLetterDesk(broker_letters("amqp://guest:s3cretpw@127.0.0.1:1//"))
    client = rig.admin()
    page = client.get("/dead-letters")
    assert page.status_code == 200
    assert "The dead-letter queues cannot be read" in page.text
    assert "s3cretpw" not in page.text
    data = {"csrf_token": token_of(page), "every": "yes"}
    answer = client.post("/dead-letters/sender/retry", data=data)
    assert answer.status_code == 409 and "Nothing done" in answer.text
    assert "s3cretpw" not in answer.text and rig.audit() == []


def test_an_agent_and_a_missing_token_are_refused(rig: Rig) -> None:
    message_id = _park_one(rig.broker)
    agent = rig.client()
    sign_in(agent, "bob", AGENT_PASSWORD)
    assert agent.get("/dead-letters").status_code == 403
    data = {"csrf_token": token_of(agent.get("/")), "id": message_id}
    assert agent.post("/dead-letters/fetcher.processed/drop", data=data).status_code == 403
    client = rig.admin()
    no_token = {"id": message_id}
    assert client.post("/dead-letters/fetcher.processed/drop", data=no_token).status_code == 403
    assert rig.broker.message_count(rig.broker.names.fetcher_processed.dead) == 1
    assert rig.audit() == []
