"""Live updates of a record's page (GET /records/{id}/events, Server-Sent Events) on a real
uvicorn server and a real database: mail the ticketer's store writes after the stream opened
arrives as a re-rendered thread, so does a status change by another agent; another record's
mail does not; a signed-out agent's stream ends before sending anything more; hostile mail is
escaped and sanitised as on the page; a console reply's state moving in the sender's job log
(sending, then failed with the hint) is sent too; the cap and the lifetime end streams. SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from html import unescape
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.testclient import TestClient

from libs.common.db.replies import NewReply, Replies
from services.sender.joblog import JobLog
from services.ticketer.store import RecordStore
from services.web.app import build_app
from services.web.pages import record_events
from services.web.security import SESSION_COOKIE
from tests.db_fixtures import inbound
from tests.integration.test_web_quarantine import FORBIDDEN, HOSTILE_HTML
from tests.integration.test_web_records import Ticking
from tests.live_server import PATIENCE_S, Event, Events, serving
from tests.web_rig import ADMIN_PASSWORD, AGENT_PASSWORD, Console, csrf_of, open_console

_EVENTS = re.compile(r'data-events="([^"]+)"')


@dataclass
class Rig:
    console: Console
    store: RecordStore
    base: str
    app: Starlette

    def session(self, username: str) -> httpx.Client:
        """A client signed in as ``username`` (a session opened as sign-in does)."""
        user = next(u for u in self.console.store.users() if u.username == username)
        token = self.console.accounts.start_session(user).token
        cookies = {SESSION_COOKIE: token}
        return httpx.Client(base_url=self.base, cookies=cookies, timeout=PATIENCE_S)

    def record(self, n: int) -> int:
        made = self.store.create_record_with_message(inbound(n)).record_id
        assert made is not None
        return made


@pytest.fixture
def rig(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    # Quick polls so that the test is quick; it waits on events, never on time.
    monkeypatch.setattr(record_events, "POLL_S", 0.05)
    store = RecordStore.open(database_url, clock=Ticking())
    try:
        for console in open_console(database_url):
            console.add_user("alice", "admin", ADMIN_PASSWORD)
            console.add_user("bob", "agent", AGENT_PASSWORD)
            app = build_app(console.accounts, announce=console.announcer())
            with serving(app) as base:
                yield Rig(console, store, base, app)
    finally:
        store.close()


def _events_url(client: httpx.Client, record_id: int) -> str:
    """The stream the record's page opens: since the version the page shows."""
    page = client.get(f"/records/{record_id}")
    assert page.status_code == 200
    found = _EVENTS.search(page.text)
    assert found is not None and f"/records/{record_id}/events?since=" in found.group(1)
    return unescape(found.group(1))


def test_new_mail_after_the_stream_opened_arrives_and_other_records_do_not(rig: Rig) -> None:
    mine, other = rig.record(1), rig.record(2)
    with rig.session("bob") as bob:
        url = _events_url(bob, mine)
        with bob.stream("GET", url) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = Events(response)
            rig.store.append_message(other, inbound(3, subject="Elsewhere entirely"))
            rig.store.append_message(mine, inbound(4, subject="Still jammed", body_text="Again!"))
            got = events.until("record")
    assert got.data["messages"] == 2 and got.data["status"] == "open"
    assert "Still jammed" in got.data["thread"] and "Again!" in got.data["thread"]
    assert got.data["thread"].count("<article") == 2
    assert "Elsewhere entirely" not in got.data["thread"]
    assert got.ident and got.ident not in url
    assert events.retry == [record_events.RETRY_MS]
    # The client went away: its place under the cap is given back.
    _wait_for(lambda: rig.app.state.live.open == 0)


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def _watched_while_alice_posts(rig: Rig, record_id: int, form: str, data: dict[str, str]) -> Event:
    """The ``record`` event Bob's open stream gets when Alice posts ``data`` to the record's
    ``form``."""
    with rig.session("bob") as bob, rig.session("alice") as alice:
        url = _events_url(bob, record_id)
        with bob.stream("GET", url) as response:
            events = Events(response)
            token = csrf_of(alice.get(f"/records/{record_id}").text)
            done = alice.post(f"/records/{record_id}/{form}", data={**data, "csrf_token": token})
            assert done.status_code == 303
            return events.until("record")


def test_a_status_change_by_another_agent_is_sent(rig: Rig) -> None:
    record_id = rig.record(1)
    got = _watched_while_alice_posts(rig, record_id, "status", {"status": "closed"})
    assert got.data["status"] == "closed"
    assert "<dt>Status</dt><dd>closed</dd>" in got.data["facts"]


def test_an_assignment_by_another_agent_is_sent(rig: Rig) -> None:
    record_id = rig.record(1)
    bob_id = next(u.id for u in rig.console.store.users() if u.username == "bob")
    got = _watched_while_alice_posts(rig, record_id, "assign", {"assigned_to": str(bob_id)})
    assert "<dt>Assigned to</dt><dd>Bob</dd>" in got.data["facts"]
    assert got.data["status"] == "open" and got.data["messages"] == 1


def test_the_default_poll_period_is_at_most_a_second() -> None:
    """The page says "within about a second": a change waits at most one poll period."""
    assert 0 < record_events.POLL_S <= 1.0


def test_a_mail_stored_between_two_polls_is_sent_at_the_next_poll(rig: Rig) -> None:
    """Counted in polls, not in time: the look right after the mail is stored sends it."""
    record_id = rig.record(1)
    bob = next(u for u in rig.console.store.users() if u.username == "bob")
    versions = rig.app.state.versions
    request = cast(Request, SimpleNamespace(app=rig.app))

    def render() -> tuple[str, dict[str, Any]] | None:
        found = record_events.fragment(request, record_id)
        return ("record", found) if found is not None else None

    watch = record_events.Watch(
        request,
        rig.console.accounts.start_session(bob).token,
        versions.version(record_id),
        partial(versions.version, record_id),
        render,
    )
    polls: list[float] = []

    async def pause(period: float) -> None:
        polls.append(period)
        if len(polls) == 3:  # after the third look: the mail arrives
            rig.store.append_message(record_id, inbound(4, subject="Between two polls"))

    async def first_event() -> str:
        async for chunk in record_events._updates(watch, pause):
            if not chunk.startswith(":"):
                return chunk
        raise AssertionError("the stream ended without an event")

    sent = asyncio.run(first_event())
    assert sent.startswith("id: ") and "event: record" in sent and "Between two polls" in sent
    assert len(polls) == 3  # no look after the mail went by without sending it


def test_a_signed_out_agent_receives_nothing_more(rig: Rig) -> None:
    record_id = rig.record(1)
    with rig.session("bob") as bob:
        url = _events_url(bob, record_id)
        with bob.stream("GET", url) as response:
            events = Events(response)
            token = csrf_of(bob.get(f"/records/{record_id}").text)
            assert bob.post("/logout", data={"csrf_token": token}).status_code == 303
            rig.store.append_message(record_id, inbound(2, subject="Secret follow-up"))
            rest = events.rest()
            raw = "".join(str(e.data) for e in rest)
        assert [(e.name, e.data) for e in rest] == [("ended", {"why": "signed-out"})]
        assert "Secret follow-up" not in raw
        again = bob.get(url)
    assert again.status_code == 303 and again.headers["location"].startswith("/login?")


def test_hostile_mail_is_escaped_and_sanitised_on_the_live_path(rig: Rig) -> None:
    record_id = rig.record(1)
    hostile = inbound(
        2,
        subject="<script>alert(5)</script>",
        body_text="<img src=x onerror=alert(6)>",
        body_html=HOSTILE_HTML,
    )
    with rig.session("bob") as bob:
        url = _events_url(bob, record_id)
        with bob.stream("GET", url) as response:
            events = Events(response)
            rig.store.append_message(record_id, hostile)
            thread = events.until("record").data["thread"]
    assert "&lt;script&gt;alert(5)&lt;/script&gt;" in thread
    assert "&lt;img src=x onerror=alert(6)&gt;" in thread
    frames = re.findall(r"<iframe [^>]*>", thread)
    assert len(frames) == 1 and " sandbox " in frames[0]
    srcdoc = re.search(r'srcdoc="([^"]*)"', frames[0])
    assert srcdoc is not None and "https://example.org/ok" in unescape(srcdoc.group(1))
    for bad in FORBIDDEN:
        assert bad not in unescape(srcdoc.group(1)).lower(), bad
    outside = re.sub(r'srcdoc="[^"]*"', "", thread)
    assert "<script" not in outside and "<img" not in outside


def test_a_replys_job_state_in_the_senders_log_is_sent(rig: Rig) -> None:
    """The reply's state is no row of the record: only the job log moves, and still the
    stream sends the thread again, once for each state."""
    record_id = rig.record(1)
    job_id = f"console-{record_id}-{'a' * 32}"
    bob = next(u for u in rig.console.store.users() if u.username == "bob")
    reply = NewReply(
        job_id,
        record_id,
        bob.id,
        "bob",
        "support@contoso.com",
        "bob@contoso.com",
        "Re: Printer 1 is broken",
        "Try turning it off.",
    )
    assert Replies(rig.console.store.engine).add(reply)
    joblog = JobLog(rig.console.store.engine)
    with rig.session("bob") as client:
        url = _events_url(client, record_id)
        with client.stream("GET", url) as response:
            events = Events(response)
            joblog.claim_job(job_id, mailbox="support@contoso.com", record_id=record_id)
            sending = events.until("record")
            hint = "grant Send As in Exchange (Delegation > Send as)"
            joblog.mark_failed(job_id, code="send_as_denied", message=hint)
            failed = events.until("record")
    assert _states(sending.data["thread"]) == ["sending"]
    assert _states(failed.data["thread"]) == ["failed"]
    assert "send_as_denied: " + hint in unescape(failed.data["thread"])
    assert "Try turning it off." in failed.data["thread"]
    assert sending.ident != failed.ident
    assert sending.data["messages"] == failed.data["messages"] == 1  # no thread row moved


def _states(thread: str) -> list[str]:
    return re.findall(r'<strong class="state">(\w+)</strong>', thread)


def test_who_may_open_a_stream(rig: Rig) -> None:
    record_id = rig.record(1)
    with httpx.Client(base_url=rig.base, timeout=PATIENCE_S) as anonymous:
        refused = anonymous.get(f"/records/{record_id}/events")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login?")
    with rig.session("bob") as bob:
        assert bob.get(f"/records/{record_id + 99}/events").status_code == 404


def test_a_stream_without_a_version_starts_with_the_record_and_ends_at_its_lifetime(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_id = rig.record(1)
    monkeypatch.setattr(record_events, "LIFETIME_S", 0.2)
    with rig.session("bob") as bob:
        events = Events(bob.get(f"/records/{record_id}/events"))
        rest = events.rest()
    assert [e.name for e in rest] == ["record"]
    assert "Printer 1 is broken" in rest[0].data["thread"]


def test_over_the_cap_a_stream_only_asks_to_come_back_later(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_id = rig.record(1)
    monkeypatch.setattr(record_events, "MAX_STREAMS", 0)
    with rig.session("bob") as bob:
        answer = bob.get(f"/records/{record_id}/events")
    assert answer.status_code == 200
    assert answer.text == f"retry: {record_events.BUSY_RETRY_MS}\n\n"


def test_the_page_names_its_stream_and_works_without_it(rig: Rig) -> None:
    record_id = rig.record(1)
    client = TestClient(
        build_app(rig.console.accounts, announce=rig.console.announcer()),
        base_url="https://console.test",
    )
    with rig.session("bob") as bob:
        client.cookies.set(SESSION_COOKIE, bob.cookies[SESSION_COOKIE])
        page = client.get(f"/records/{record_id}").text
    assert f'<a href="/records/{record_id}">Refresh</a>' in page
    assert 'aria-live="polite"' in page and '<div id="thread" ' in page
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/record-live.js" defer>']


def test_the_streams_checks_do_not_keep_an_idle_session_alive(rig: Rig) -> None:
    record_id = rig.record(1)
    idle = rig.console.accounts.sessions.idle
    with rig.session("bob") as bob:
        url = _events_url(bob, record_id)
        with bob.stream("GET", url) as response:
            events = Events(response)
            rig.console.clock.advance(seconds=idle.total_seconds() * 0.6)
            rig.store.append_message(record_id, inbound(2, subject="Seen while live"))
            assert "Seen while live" in events.until("record").data["thread"]
            # Idle since the page was fetched, however often the stream checked meanwhile.
            rig.console.clock.advance(seconds=idle.total_seconds() * 0.6)
            rig.store.append_message(record_id, inbound(3, subject="Too late"))
            rest = events.rest()
    assert [(e.name, e.data) for e in rest] == [("ended", {"why": "signed-out"})]


def test_the_list_counts_the_records_made_after_its_page(rig: Rig) -> None:
    rig.record(1)
    with rig.session("bob") as bob:
        page = bob.get("/records").text
        found = re.search(r'id="records-news"[^>]*data-events="([^"]+)"', page)
        assert found is not None and found.group(1).startswith("/records/events?after=")
        with bob.stream("GET", unescape(found.group(1))) as response:
            events = Events(response)
            rig.record(2)
            first = events.until("records")
            rig.record(3)
            second = events.until("records")
    assert (first.data, second.data) == ({"new": 1}, {"new": 2})


def test_streams_end_when_the_server_stops(rig: Rig) -> None:
    record_id = rig.record(1)
    with rig.session("bob") as bob, bob.stream("GET", _events_url(bob, record_id)) as response:
        events = Events(response)
        rig.app.state.live.closing.set()  # as WebServer.stop does first
        assert events.rest() == []
    assert rig.app.state.live.open == 0
