"""The console's record pages: the list (search, filters, paging, counts per status), one
record's thread in order with each kind labelled, hostile HTML sanitised in a sandboxed frame,
attachments downloaded safely, the requester's profile, and status and assignment changed by
agents (audited; CSRF and anonymous refused). SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from libs.common.blobs import BlobStore
from libs.common.db.schema import console_audit, records
from services.ticketer.store import (
    Attachment,
    DeliveryFailure,
    Party,
    RecordStore,
    Requester,
)
from services.web.app import build_app
from services.web.pages import records as record_pages
from tests.db_fixtures import inbound
from tests.integration.test_web_quarantine import FORBIDDEN, HOSTILE_HTML
from tests.web_rig import ADMIN_PASSWORD, AGENT_PASSWORD, Console, open_console, sign_in

BOX = "help@example.com"
OTHER = "hr@example.com"


class Ticking:
    """A clock one minute later at every call: each write is newer than the one before."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@dataclass
class Rig:
    console: Console
    store: RecordStore
    blobs: BlobStore

    def client(self, username: str | None = None) -> TestClient:
        app = build_app(self.console.accounts, blobs=self.blobs, announce=self.console.announcer())
        client = TestClient(app, base_url="https://console.test", follow_redirects=False)
        if username is not None:
            password = ADMIN_PASSWORD if username == "alice" else AGENT_PASSWORD
            assert sign_in(client, username, password).status_code == 303
        return client

    def user_id(self, username: str) -> int:
        return next(u.id for u in self.console.store.users() if u.username == username)


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    store = RecordStore.open(database_url, clock=Ticking())
    try:
        for console in open_console(database_url):
            console.add_user("alice", "admin", ADMIN_PASSWORD)
            console.add_user("bob", "agent", AGENT_PASSWORD)
            yield Rig(console, store, BlobStore(tmp_path / "blobs"))
    finally:
        store.close()


def _last_audit(rig: Rig, action: str) -> Any:
    with rig.console.store.engine.connect() as conn:
        query = select(console_audit).where(console_audit.c.action == action)
        return conn.execute(query.order_by(console_audit.c.id.desc())).first()


def _ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td><a href="/records/(\d+)">#', page)]


def _three(rig: Rig) -> list[int]:
    made = [
        rig.store.create_record_with_message(inbound(1)),
        rig.store.create_record_with_message(inbound(2, mailbox=OTHER)),
        rig.store.create_record_with_message(inbound(3, subject="Badge lost")),
    ]
    ids = [m.record_id for m in made]
    assert all(isinstance(i, int) for i in ids)
    return [i for i in ids if i is not None]


def test_the_list_searches_filters_pages_and_counts(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, third = _three(rig)
    rig.store.set_status(first, "closed")  # the newest activity now
    client = rig.client("bob")
    page = client.get("/records").text
    assert _ids(page) == [first, third, second]
    assert "Open: 2" in page and "Pending: 0" in page and "Closed: 1" in page
    assert _ids(client.get("/records", params={"q": "badge"}).text) == [third]
    assert _ids(client.get("/records", params={"q": "USER2@"}).text) == [second]
    # The requester's display name, the status word and the mailbox are searched too.
    assert _ids(client.get("/records", params={"q": "user 3"}).text) == [third]
    assert _ids(client.get("/records", params={"q": "CLOSED"}).text) == [first]
    assert _ids(client.get("/records", params={"q": "hr@exa"}).text) == [second]
    assert _ids(client.get("/records", params={"q": "open"}).text) == [third, second]
    assert _ids(client.get("/records", params={"status": "closed"}).text) == [first]
    assert _ids(client.get("/records", params={"mailbox": OTHER}).text) == [second]
    assert _ids(client.get("/records", params={"q": "no such thing"}).text) == []
    assert _ids(client.get("/records", params={"q": "%"}).text) == []
    assert _ids(client.get("/records", params={"q": "printer_"}).text) == []

    monkeypatch.setattr(record_pages, "PAGE_SIZE", 2)
    one = client.get("/records", params={"status": "open"}).text
    assert _ids(one) == [third, second] and "page 1 of 1" in one
    listed = client.get("/records").text
    assert _ids(listed) == [first, third] and 'href="/records?page=2" rel="next"' in listed
    assert _ids(client.get("/records", params={"page": "2"}).text) == [second]


def test_assigned_to_me_and_unassigned(rig: Rig) -> None:
    first, second, _ = _three(rig)
    alice = rig.client("alice")
    page = alice.get(f"/records/{first}")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert token is not None
    done = alice.post(
        f"/records/{first}/assign",
        data={"assigned_to": str(rig.user_id("bob")), "csrf_token": token.group(1)},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/records/{first}?done=assigned"
    bob = rig.client("bob")
    assert _ids(bob.get("/records", params={"assigned": "me"}).text) == [first]
    assert first not in _ids(bob.get("/records", params={"assigned": "none"}).text)
    assert second in _ids(bob.get("/records", params={"assigned": "none"}).text)
    assert _ids(alice.get("/records", params={"assigned": "me"}).text) == []
    assert "Bob" in alice.get(f"/records/{first}").text
    audit = _last_audit(rig, "record assigned")
    assert audit is not None
    assert (audit.action, audit.actor, audit.target) == (
        "record assigned",
        "alice",
        f"record #{first}",
    )


def _thread(rig: Rig) -> int:
    page_ref = rig.blobs.put(b"<script>alert(1)</script>")
    png_ref = rig.blobs.put(b"\x89PNG fake")
    request = inbound(
        1,
        body_html=HOSTILE_HTML,
        attachments=(
            Attachment("page.html", page_ref.sha256, page_ref.size, "text/html"),
            Attachment("logo.png", png_ref.sha256, png_ref.size, "image/png", True, "logo@x"),
        ),
    )
    record_id = rig.store.create_record_with_message(request).record_id
    assert record_id is not None
    at = request.received_at
    ours = replace(
        inbound(2),
        direction="out",
        kind="outbound",
        provider=None,
        message_id=None,
        internet_message_id="<reply1@example.com>",
        from_=Party(BOX, "Helpdesk"),
        to=(Party("user1@customer.example"),),
        subject="Re: Printer 1",
        body_text="We are on it.",
        received_at=at + timedelta(minutes=5),
    )
    rig.store.record_outbound(record_id, ours)
    auto = inbound(
        3, kind="auto_reply", subject="Out of office", received_at=at + timedelta(minutes=6)
    )
    rig.store.append_message(record_id, auto)
    bounce = inbound(
        4,
        kind="delivery_failure",
        subject="Undeliverable: Re: Printer 1",
        received_at=at + timedelta(minutes=7),
        delivery_failures=(DeliveryFailure("gone@customer.example", "5.1.1", "no such user"),),
    )
    rig.store.append_message(record_id, bounce)
    return record_id


def test_the_thread_in_order_each_kind_for_what_it_is(rig: Rig) -> None:
    record_id = _thread(rig)
    rig.store.put_requester(
        Requester(
            "user1@customer.example",
            datetime(2026, 11, 1, tzinfo=UTC),
            "User 1",
            "User One",
            "Printer wrangler",
            "Facilities",
            True,
        )
    )
    page = rig.client("bob").get(f"/records/{record_id}").text
    order = [
        page.index(label)
        for label in (
            "Request (inbound)",
            "Sent by us (outbound)",
            "Automatic reply (inbound)",
            "Delivery failure (inbound)",
        )
    ]
    assert order == sorted(order)
    assert "gone@customer.example 5.1.1 no such user" in page
    assert "We are on it." in page and "Out of office" in page
    assert "Facilities" in page and "Printer wrangler" in page and "User One" in page
    frames = re.findall(r"<iframe [^>]*>", page)
    assert len(frames) == 1 and " sandbox " in frames[0]
    srcdoc = re.search(r'srcdoc="([^"]*)"', frames[0])
    assert srcdoc is not None and "https://example.org/ok" in unescape(srcdoc.group(1))
    for bad in FORBIDDEN:
        assert bad not in unescape(srcdoc.group(1)).lower(), bad
    # The one script is the page's own static file (live updates), never the mail's.
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/record-live.js" defer>']
    assert "alert(" not in page


def test_attachments_download_safely(rig: Rig) -> None:
    record_id = _thread(rig)
    client = rig.client("bob")
    page = client.get(f"/records/{record_id}").text
    assert f'href="/records/{record_id}/attachments/1" download><bdi dir="auto">page.html' in page
    html = client.get(f"/records/{record_id}/attachments/1")
    assert html.status_code == 200 and html.content == b"<script>alert(1)</script>"
    assert html.headers["content-type"] == "application/octet-stream"
    assert html.headers["content-disposition"] == "attachment; filename*=UTF-8''page.html"
    assert html.headers["x-content-type-options"] == "nosniff"
    png = client.get(f"/records/{record_id}/attachments/2")
    assert png.headers["content-type"] == "image/png" and png.content == b"\x89PNG fake"
    assert png.headers["content-disposition"].startswith("attachment;")
    assert client.get(f"/records/{record_id}/attachments/3").status_code == 404
    assert rig.client().get(f"/records/{record_id}/attachments/1").status_code == 303


@pytest.mark.parametrize(
    "content_type, served",
    [
        ("image/png", "image/png"),
        ("application/pdf", "application/pdf"),
        ("text/html", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("text/javascript", "application/octet-stream"),
        ("nonsense", "application/octet-stream"),
    ],
)
def test_active_content_types_are_served_as_bytes(content_type: str, served: str) -> None:
    assert record_pages.served_type(content_type) == served


def test_status_change_is_audited_and_needs_a_session_and_its_token(rig: Rig) -> None:
    record_id = _thread(rig)
    bob = rig.client("bob")
    page = bob.get(f"/records/{record_id}").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert token is not None
    url = f"/records/{record_id}/status"
    assert bob.post(url, data={"status": "closed"}).status_code == 403
    assert bob.post(url, data={"status": "closed", "csrf_token": "x"}).status_code == 403
    anonymous = rig.client().post(url, data={"status": "closed", "csrf_token": token.group(1)})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert bob.post(url, data={"status": "lost", "csrf_token": token.group(1)}).status_code == 400
    with rig.console.store.engine.connect() as conn:
        assert conn.execute(select(records.c.status)).scalar_one() == "open"
    done = bob.post(url, data={"status": "pending", "csrf_token": token.group(1)})
    assert done.status_code == 303
    assert "The status is changed." in bob.get(done.headers["location"]).text
    with rig.console.store.engine.connect() as conn:
        assert conn.execute(select(records.c.status)).scalar_one() == "pending"
    audit = _last_audit(rig, "record status changed")
    assert audit is not None and (audit.action, audit.actor) == ("record status changed", "bob")
    assert audit.detail == {"from": "open", "to": "pending"}
    # A reply from the requester reopens it, as the ticketer stores it, and shows in the thread.
    rig.store.append_message(record_id, inbound(9, kind="reply", subject="Still broken"))
    page = bob.get(f"/records/{record_id}").text
    assert "Reply from the requester (inbound)" in page and "Still broken" in page
    with rig.console.store.engine.connect() as conn:
        assert conn.execute(select(records.c.status)).scalar_one() == "open"
    assert bob.get(f"/records/{record_id + 100}").status_code == 404


def test_inline_images_of_the_mail_show_in_its_frame(rig: Rig) -> None:
    png, gif = b"\x89PNG\r\n\x1a\n picture", b"GIF89a picture"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    refs = [rig.blobs.put(data) for data in (png, gif, svg)]
    hostile = 'x" onerror="alert(1)'
    html = (
        '<p><img src="cid:logo%40example.com" alt="logo"> <img src="cid:nobody@here" alt="lost">'
        f'<img src=\'cid:{hostile}\' alt="q"> <img src="cid:drawing@x" alt="svg">'
        '<img src="https://tracker.example/p.gif" alt="pixel"></p>'
    )
    parts = (
        Attachment(
            "logo.png", refs[0].sha256, refs[0].size, "image/png", True, "<logo@example.com>"
        ),
        Attachment("q.gif", refs[1].sha256, refs[1].size, "image/gif", True, f"<{hostile}>"),
        Attachment("drawing.svg", refs[2].sha256, refs[2].size, "image/svg+xml", True, "drawing@x"),
    )
    made = rig.store.create_record_with_message(inbound(1, body_html=html, attachments=parts))
    assert made.record_id is not None
    page = rig.client("bob").get(f"/records/{made.record_id}").text
    (frame,) = re.findall(r"<iframe [^>]*>", page)
    assert " sandbox " in frame and "allow-" not in frame
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame)
    assert srcdoc is not None
    shown = unescape(srcdoc.group(1))
    sources = re.findall(r'<img [^>]*src="([^"]*)"', shown)
    # No such part, and SVG (never drawn in the frame: a download): no source, the alt shows.
    assert sources == [
        "data:image/png;base64," + base64.b64encode(png).decode(),
        "data:image/gif;base64," + base64.b64encode(gif).decode(),
    ]
    assert '<img alt="lost">' in shown and '<img alt="svg">' in shown and "cid:" not in shown
    assert "onerror" not in shown and "tracker.example" not in shown and "alert(" not in page
    # Every part is still a download link below the message.
    assert page.count(f'href="/records/{made.record_id}/attachments/') == 3


def test_inline_images_are_read_once_for_every_render_after(rig: Rig, tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n cached picture"
    ref = rig.blobs.put(png)
    part = Attachment("logo.png", ref.sha256, ref.size, "image/png", True, "<logo@example.com>")
    html = '<p><img src="cid:logo@example.com" alt="logo"></p>'
    made = rig.store.create_record_with_message(inbound(1, body_html=html, attachments=(part,)))
    bob, shown = rig.client("bob"), "data:image/png;base64," + base64.b64encode(png).decode()
    assert shown in unescape(bob.get(f"/records/{made.record_id}").text)
    shutil.rmtree(tmp_path / "blobs")  # the store loses it: the page must not need it again
    assert shown in unescape(bob.get(f"/records/{made.record_id}").text)
