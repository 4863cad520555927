"""Hostile text of a mail in the console's pages: bidirectional overrides, zero-width and
control characters in subjects, display names, file names and bodies are shown as visible code
points, each value isolated (``<bdi dir="auto">``), never left to act. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from libs.common.blobs import BlobStore
from libs.common.db import make_engine
from libs.common.db.quarantine import QuarantineBook
from libs.common.mail import Mailbox
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.ticketer.store import Attachment, DeliveryFailure, Party, RecordStore
from services.web.app import build_app
from services.web.quarantine import QuarantineDesk
from tests.db_fixtures import inbound
from tests.mail_fake import FakeMailbox
from tests.web_rig import ADMIN_PASSWORD, AGENT_PASSWORD, Console, open_console, sign_in

#: "Invoice " RLO "fdp.exe" reads as "Invoice exe.pdf" where the override acts.
SUBJECT = "Invoice \u202efdp.exe\u202c paid\u200b\u200b\x1b[31m"
NAME = "IT\u2067 Support\u2069 \u200fDesk"
FILE = "scan\u202egpj.exe"
BODY = "Please open the attachment\r\n\tscan\u202egpj.exe\x07\nThanks"
#: What must not reach a page: each of these acts on the text around it or hides some.
ACTING = ("\u202e", "\u202c", "\u2067", "\u2069", "\u200f", "\u200b", "\x1b", "\x07")
RLO = '<span class="hidden-char" dir="ltr" title="RIGHT-TO-LEFT OVERRIDE">[U+202E]</span>'
SHOWN_SUBJECT = (
    '<bdi dir="auto">Invoice '
    f"{RLO}fdp.exe"
    '<span class="hidden-char" dir="ltr" title="POP DIRECTIONAL FORMATTING">[U+202C]</span>'
    " paid"
    '<span class="hidden-char" dir="ltr" title="ZERO WIDTH SPACE">[U+200B \u00d72]</span>'
    '<span class="hidden-char" dir="ltr" title="control character">[U+001B]</span>[31m</bdi>'
)


@dataclass
class Rig:
    console: Console
    store: RecordStore
    blobs: BlobStore

    def agent(self) -> TestClient:
        app = build_app(self.console.accounts, blobs=self.blobs)
        client = TestClient(app, base_url="https://console.test", follow_redirects=False)
        assert sign_in(client, "bob", AGENT_PASSWORD).status_code == 303
        return client

    def hostile_record(self) -> int:
        ref = self.blobs.put(b"MZ not really a program")
        message = inbound(
            1,
            subject=SUBJECT,
            from_=Party("mallory@example.net", NAME),
            body_text=BODY,
            attachments=(Attachment(FILE, ref.sha256, ref.size, "application/octet-stream"),),
        )
        record_id = self.store.create_record_with_message(message).record_id
        assert record_id is not None
        failure = DeliveryFailure("gone\u202e@example.net", "5.1.1", "no such user")
        bounce = inbound(2, kind="delivery_failure", delivery_failures=(failure,))
        self.store.append_message(record_id, bounce)
        return record_id


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    store = RecordStore.open(database_url)
    try:
        for console in open_console(database_url):
            console.add_user("alice", "admin", ADMIN_PASSWORD)
            console.add_user("bob", "agent", AGENT_PASSWORD)
            yield Rig(console, store, BlobStore(tmp_path / "blobs"))
    finally:
        store.close()


def test_the_records_list_shows_a_hostile_subject_and_name_neutralised(rig: Rig) -> None:
    rig.hostile_record()
    page = rig.agent().get("/records")
    assert page.status_code == 200
    assert SHOWN_SUBJECT in page.text
    assert (
        '<bdi dir="auto">IT<span class="hidden-char" dir="ltr" title="RIGHT-TO-LEFT ISOLATE">'
        "[U+2067]</span> Support"
    ) in page.text
    assert not [c for c in ACTING if c in page.text]


def test_the_record_page_shows_every_hostile_value_neutralised(rig: Rig) -> None:
    record_id = rig.hostile_record()
    page = rig.agent().get(f"/records/{record_id}")
    assert page.status_code == 200
    text = page.text
    assert not [c for c in ACTING if c in text]
    assert f"<h1>Record #{record_id}: {SHOWN_SUBJECT}</h1>" in text
    assert f"<dt>Subject</dt><dd>{SHOWN_SUBJECT}</dd>" in text
    assert f'download><bdi dir="auto">scan{RLO}gpj.exe</bdi></a>' in text  # the file name
    assert f'<li><bdi dir="auto">gone{RLO}@example.net' in text  # a bounce's recipient
    # the reply form quotes the subject it will send (the job's header has a space for the
    # escape), the override still shown as its code point
    assert f'the subject is "<bdi dir="auto">Re: Invoice {RLO}fdp.exe' in text
    # the body keeps its lines and tab, in a block that takes each line's own direction
    assert (
        '<pre class="mail-text" dir="auto">Please open the attachment\r\n\tscan'
        f"{RLO}gpj.exe"
        '<span class="hidden-char" dir="ltr" title="control character">[U+0007]</span>'
        "\nThanks</pre>"
    ) in text


def test_markup_in_a_subject_is_still_escaped(rig: Rig) -> None:
    message = inbound(1, subject='<img src=x onerror="alert(1)">\u202e', from_=Party("a@b.example"))
    record_id = rig.store.create_record_with_message(message).record_id
    page = rig.agent().get(f"/records/{record_id}").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" + RLO in page


BOX = "support@contoso.com"
FOLDER = "mailpipe-quarantine"


@pytest.fixture
def quarantined(database_url: str) -> Iterator[tuple[TestClient, int]]:
    """An admin's client and the quarantine entry of a hostile mail."""
    mail = FakeMailbox(address=BOX)
    mail.folders[FOLDER] = {}
    box = MailboxConfig(address=BOX, tenant_id="t", client_id="c", client_secret="s")

    def open_mail(config: MailpipeConfig, box: MailboxConfig) -> Mailbox:
        return mail

    message = EmailMessage()
    message["From"] = f"{NAME} <mallory@example.net>"
    message["To"] = BOX
    message["Subject"] = SUBJECT.replace("\x1b", "")  # the stdlib refuses an ESC in a header
    message.set_content(BODY)
    message.add_attachment(b"MZ", "application", "octet-stream", filename=FILE)
    records = RecordStore.open(database_url)
    book = QuarantineBook(make_engine(database_url))
    try:
        message_id = mail.seed(message.as_bytes(), FOLDER)
        records.quarantine_email(
            BOX, message_id, "bad_mime", detail="bad_mime detail", attempts=1,
            provider="microsoft", folder="inbox", internet_message_id=None, subject=SUBJECT,
        )  # fmt: skip
        desk = QuarantineDesk(book, lambda: MailpipeConfig(mailboxes=(box,)), open_mail)
        for console in open_console(database_url):
            console.add_user("alice", "admin", ADMIN_PASSWORD)
            client = TestClient(
                build_app(console.accounts, quarantine_desk=desk),
                base_url="https://console.test",
                follow_redirects=False,
            )
            assert sign_in(client, "alice", ADMIN_PASSWORD).status_code == 303
            yield client, records.list_quarantine()[-1].id
    finally:
        book.close()
        records.close()


def test_the_quarantine_shows_a_hostile_mail_neutralised(
    quarantined: tuple[TestClient, int],
) -> None:
    client, entry = quarantined
    listed = client.get("/quarantine").text
    assert SHOWN_SUBJECT in listed
    assert not [c for c in ACTING if c in listed]
    page = client.get(f"/quarantine/{entry}").text
    assert not [c for c in ACTING if c in page]
    assert f"<h1>Quarantine entry #{entry}: {SHOWN_SUBJECT}</h1>" in page
    # the raw headers, as the mail carries them, decoded
    from_header = '<dt><bdi dir="auto">From</bdi></dt><dd><bdi dir="auto">IT<span class='
    assert from_header in page
    assert f'<li><bdi dir="auto">scan{RLO}gpj.exe</bdi>' in page
    assert f"\tscan{RLO}gpj.exe" in page
