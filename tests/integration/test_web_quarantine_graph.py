"""The console's quarantine page on the real Graph client against the simulator and RabbitMQ:
the mail is read from the quarantine folder, and after a replay from the console the fetcher
takes it from the inbox again and publishes it to the ticketer's queue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from libs.common.db import make_engine
from libs.common.db.quarantine import QuarantineBook
from libs.graphsim.testing import SimHandle
from services.ticketer.store import RecordStore
from services.web.app import build_app
from services.web.quarantine import QuarantineDesk
from tests.integration.fetcher_rig import SUPPORT, Rig, mail, open_rig
from tests.web_rig import ADMIN_PASSWORD, Console, open_console, sign_in

QUARANTINE = "mailpipe-quarantine"


@pytest.fixture
def rig(sim: SimHandle, amqp_url: str, namespace: str, tmp_path: Path) -> Iterator[Rig]:
    database_url = f"sqlite:///{tmp_path / 'state.db'}"
    with open_rig(sim, amqp_url, namespace, database_url, tmp_path / "blobs") as made:
        yield made


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    for made in open_console(f"sqlite:///{tmp_path / 'state.db'}"):
        made.add_user("alice", "admin", ADMIN_PASSWORD)
        yield made


def test_a_replay_from_the_console_reaches_the_ticketers_queue(
    rig: Rig, console: Console, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'state.db'}"
    raw = mail(7, subject="Printer on fire", html="<p onclick='x()'>Printer <b>on fire</b></p>")
    message_id = rig.seed(raw, folder=QUARANTINE)
    records = RecordStore.open(database_url)
    book = QuarantineBook(make_engine(database_url))
    try:
        records.quarantine_email(
            SUPPORT, message_id, "bad_mime", provider="microsoft", subject="Printer on fire"
        )
        (entry,) = records.list_quarantine()
        desk = QuarantineDesk(book, rig.config)
        client = TestClient(
            build_app(console.accounts, quarantine_desk=desk),
            base_url="https://console.test",
            follow_redirects=False,
        )
        sign_in(client, "alice", ADMIN_PASSWORD)
        page = client.get(f"/quarantine/{entry.id}")
        assert page.status_code == 200 and "Body of request 7." in page.text
        assert "&lt;b&gt;on fire&lt;/b&gt;" in page.text and "onclick" not in page.text
        token = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
        assert token is not None
        data = {"csrf_token": token.group(1)}
        assert client.post(f"/quarantine/{entry.id}/replay", data=data).status_code == 303
        assert rig.folders().get(QUARANTINE, 0) == 0 and rig.folders()["inbox"] == 1
        (poller,) = [p for p in rig.fetcher().pollers if p.address == SUPPORT]
        result = poller.poll()
        assert result is not None and result.published == 1
        (email,) = rig.inbound()
        assert email.message_id == message_id and email.subject == "Printer on fire"
    finally:
        book.close()
        records.close()
