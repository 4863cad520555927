"""The console's Drop on a quarantine entry, on the real Graph client against the simulator,
on SQLite and PostgreSQL: the mail leaves the quarantine folder, the entry is kept as history
(who, when, the note) and shown under the "Dropped" filter, the drop is audited and confirmed;
the confirmation box is required, a dropped entry is never replayed, a mail already gone is
said, the agent and a missing CSRF token are refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from libs.common.db import make_engine
from libs.common.db.quarantine import QuarantineBook
from libs.common.db.schema import console_audit
from libs.graphsim.testing import SimHandle
from services.ticketer.store import RecordStore
from services.web.app import build_app
from services.web.quarantine import QuarantineDesk
from tests.web_rig import ADMIN_PASSWORD, AGENT_PASSWORD, Console, open_console, sign_in

BOX = "support@contoso.com"
FOLDER = "mailpipe-quarantine"


@dataclass
class Rig:
    sim: SimHandle
    console: Console
    records: RecordStore
    desk: QuarantineDesk

    def client(self) -> TestClient:
        app = build_app(self.console.accounts, quarantine_desk=self.desk)
        return TestClient(app, base_url="https://console.test", follow_redirects=False)

    def quarantine(self, n: int) -> tuple[int, str]:
        raw = (
            f"From: a@customer.example\r\nTo: {BOX}\r\nSubject: Junk {n}\r\n"
            f"Message-ID: <junk-{n}@customer.example>\r\n\r\nBuy now {n}.\r\n"
        ).encode()
        with self.sim.control() as control:
            seeded = control.post(
                f"/_sim/mailboxes/{BOX}/messages",
                params={"folder": FOLDER},
                content=raw,
                headers={"Content-Type": "message/rfc822"},
            )
        seeded.raise_for_status()
        message_id = str(seeded.json()["id"])
        self.records.quarantine_email(
            BOX, message_id, "bad_mime", subject=f"Junk {n}", provider="microsoft"
        )
        return self.records.list_quarantine()[-1].id, message_id

    def held(self) -> list[str]:
        with self.sim.control() as control:
            answer = control.get(f"/_sim/mailboxes/{BOX}/folders/{FOLDER}/messages")
        answer.raise_for_status()
        return [m["id"] for m in answer.json()]

    def audit(self) -> list[dict[str, object]]:
        with self.records.engine.connect() as conn:
            rows = conn.execute(select(console_audit)).all()
        return [dict(r._mapping) for r in rows if r.action == "quarantine dropped"]


@pytest.fixture
def rig(database_url: str, sim: SimHandle) -> Iterator[Rig]:
    records = RecordStore.open(database_url)
    book = QuarantineBook(make_engine(database_url))
    try:
        for console in open_console(database_url):
            console.add_user("alice", "admin", ADMIN_PASSWORD)
            console.add_user("bob", "agent", AGENT_PASSWORD)
            yield Rig(sim, console, records, QuarantineDesk(book, sim.config))
    finally:
        book.close()
        records.close()


def admin(rig: Rig) -> TestClient:
    client = rig.client()
    assert sign_in(client, "alice", ADMIN_PASSWORD).status_code == 303
    return client


def token_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert found is not None
    return found.group(1)


def test_drop_deletes_the_mail_keeps_the_entry_as_history_and_audits(rig: Rig) -> None:
    entry, message_id = rig.quarantine(1)
    kept, kept_id = rig.quarantine(2)
    client = admin(rig)
    page = client.get(f"/quarantine/{entry}")
    assert page.status_code == 200 and "Buy now 1." in page.text
    assert '<label for="drop-note">' in page.text and '<label for="drop-confirm">' in page.text
    form = {"csrf_token": token_of(page), "note": "Spam from a bot", "confirm": "yes"}
    answer = client.post(f"/quarantine/{entry}/drop", data=form)
    assert answer.status_code == 303
    after = client.get(answer.headers["location"]).text
    assert f"Dropped entry {entry}: its mail was deleted" in after
    assert "Junk 2" in after and "Junk 1" not in after
    assert rig.held() == [kept_id] and message_id not in rig.held()
    dropped = rig.records.get_quarantine(entry)
    assert dropped is not None and dropped.state == "dropped"
    assert dropped.dropped_by == "alice" and dropped.drop_note == "Spam from a bot"
    (audit,) = rig.audit()
    assert audit["actor"] == "alice" and audit["target"] == f"quarantine entry {entry}"
    history = client.get("/quarantine", params={"show": "dropped"}).text
    assert "Junk 1" in history and "Spam from a bot" in history and "Junk 2" not in history
    assert "1 dropped mail" in history and 'option value="dropped" selected' in history
    assert f'<option value="{BOX}">' in history
    assert client.get(f"/quarantine/{entry}").status_code == 404
    assert kept


def test_a_dropped_entry_is_not_replayed_nor_dropped_again(rig: Rig) -> None:
    entry, _ = rig.quarantine(1)
    client = admin(rig)
    token = token_of(client.get(f"/quarantine/{entry}"))
    form = {"csrf_token": token, "confirm": "yes"}
    assert client.post(f"/quarantine/{entry}/drop", data=form).status_code == 303
    replay = client.post(f"/quarantine/{entry}/replay", data={"csrf_token": token})
    assert replay.status_code == 409
    assert "Not replayed" in replay.text and "cannot be replayed" in replay.text
    assert client.post(f"/quarantine/{entry}/drop", data=form).status_code == 404
    assert len(rig.audit()) == 1
    dropped = rig.records.get_quarantine(entry)
    assert dropped is not None and dropped.replayed_at is None


def test_the_confirmation_is_required(rig: Rig) -> None:
    entry, message_id = rig.quarantine(1)
    client = admin(rig)
    token = token_of(client.get(f"/quarantine/{entry}"))
    answer = client.post(
        f"/quarantine/{entry}/drop", data={"csrf_token": token, "note": "keep my words"}
    )
    assert answer.status_code == 400
    assert 'aria-describedby="drop-confirm-error"' in answer.text
    assert 'id="drop-confirm-error"' in answer.text and "not wanted" in answer.text
    assert "keep my words</textarea>" in answer.text
    assert rig.held() == [message_id] and [q.id for q in rig.records.list_quarantine()] == [entry]
    assert rig.audit() == []


def test_a_mail_already_gone_is_said_and_the_entry_dropped(rig: Rig) -> None:
    other, other_id = rig.quarantine(1)
    rig.records.quarantine_email(BOX, "AAMk-gone=", "blob_missing", provider="microsoft")
    entry = rig.records.list_quarantine()[-1].id
    client = admin(rig)
    token = token_of(client.get(f"/quarantine/{other}"))
    form = {"csrf_token": token, "confirm": "yes"}
    answer = client.post(f"/quarantine/{entry}/drop", data=form)
    assert answer.status_code == 303
    after = client.get(answer.headers["location"]).text
    assert f"Dropped entry {entry}: its mail was already gone" in after
    assert [q.id for q in rig.records.list_quarantine()] == [other]
    assert rig.held() == [other_id]
    (audit,) = rig.audit()
    assert "already gone" in str(audit["detail"])


def test_an_agent_and_a_missing_token_are_refused(rig: Rig) -> None:
    entry, message_id = rig.quarantine(1)
    agent = rig.client()
    sign_in(agent, "bob", AGENT_PASSWORD)
    token = token_of(agent.get("/"))
    form = {"csrf_token": token, "confirm": "yes"}
    assert agent.post(f"/quarantine/{entry}/drop", data=form).status_code == 403
    client = admin(rig)
    assert client.post(f"/quarantine/{entry}/drop", data={"confirm": "yes"}).status_code == 403
    forged = {"csrf_token": "forged", "confirm": "yes"}
    assert client.post(f"/quarantine/{entry}/drop", data=forged).status_code == 403
    assert rig.held() == [message_id] and [q.id for q in rig.records.list_quarantine()] == [entry]
    assert rig.audit() == []
