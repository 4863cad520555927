"""Replying from the console, below the browser: the record page's form (TestClient) publishes
an OutboundEmail job on a real RabbitMQ, the sender (in this process) sends it to the Graph
simulator, and the record's thread shows the reply's state from the database — sent, failed
with the sender's hint, rejected with the reason — with who replied and as which address.
A forged From is refused by the console, and by the sender's policy when published directly.
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from starlette.types import Message

from libs.common.blobs import BlobStore
from libs.common.broker import Broker
from libs.common.contracts import OutboundEmail
from libs.common.db.console_schema import record_replies
from libs.common.db.schema import console_audit
from libs.common.errors import BrokerError
from libs.graphsim.testing import SimHandle
from services.ticketer.metrics import TicketerMetrics
from services.ticketer.sent_results import SentResults
from services.ticketer.store import RecordStore
from services.web.domain.body_limits import BodyLimits
from services.web.domain.replying import INLINE_BYTES
from services.web.mailboxes import Mailboxes
from services.web.replies import Publish
from services.web.security import SESSION_COOKIE
from tests.db_fixtures import inbound
from tests.integration.test_sender_support import (
    MAILBOX,
    Results,
    make_job,
    parsed,
    publish_job,
    run_sender,
    sent_list,
    set_send_as,
    sim_stats,
)
from tests.web_rig import AGENT_PASSWORD, Console, csrf_of, open_console, sign_in

AGENT = "bob@contoso.com"
REQUESTER = "user1@customer.example"
_KEY = re.compile(r'name="key" value="([0-9a-f]{32})"')


@dataclass
class Desk:
    console: Console
    store: RecordStore
    record_id: int
    sim: SimHandle
    broker: Broker
    results: Results
    url: str

    def agent(self) -> TestClient:
        client = self.console.client()
        assert sign_in(client, "bob", AGENT_PASSWORD).status_code == 303
        return client

    def page(self, client: TestClient) -> str:
        answer = client.get(f"/records/{self.record_id}")
        assert answer.status_code == 200
        return answer.text

    def reply(self, client: TestClient, page: str | None = None, **data: Any) -> Any:
        page = page or self.page(client)
        found = _KEY.search(page)
        assert found is not None, "no reply key on the page"
        form = {"csrf_token": csrf_of(page), "key": found.group(1), "from_address": MAILBOX}
        files = data.pop("files", None)
        form.update(data)
        return client.post(f"/records/{self.record_id}/reply", data=form, files=files)

    def replies(self) -> list[Any]:
        with self.console.store.engine.connect() as conn:
            return list(conn.execute(select(record_replies)).all())


def _desk(
    db_url: str, tmp_path: Path, sim: SimHandle, broker: Broker, results: Results, **box: Any
) -> Iterator[Desk]:
    """A record of the simulator's mailbox asked by REQUESTER, and a console whose integrations
    are the simulator's (``box``: their send_as) publishing on ``broker``."""
    store = RecordStore.open(db_url)
    first = inbound(1, mailbox=MAILBOX, references=("<m0@customer.example>",))
    made = store.create_record_with_message(first)
    assert made.record_id is not None
    try:
        for console in open_console(db_url):
            console.mailboxes = Mailboxes("file", file_mailboxes=sim.config(**box).mailboxes)
            console.publish = _publisher(broker)
            console.blobs = BlobStore(tmp_path / "blobs")
            bob = console.add_user("bob", "agent", AGENT_PASSWORD)
            console.store.change_user(bob.id, personal_email=AGENT)
            yield Desk(console, store, made.record_id, sim, broker, results, db_url)
    finally:
        store.close()


def _publisher(broker: Broker) -> Publish:
    """As the console publishes: on the job's route, with its id as correlation id."""

    def publish(job: OutboundEmail) -> None:
        broker.publish_routed(job, correlation_id=job.job_id)

    return publish


@pytest.fixture
def desk(
    database_url: str, tmp_path: Path, sim: SimHandle, broker: Broker, results: Results
) -> Iterator[Desk]:
    yield from _desk(database_url, tmp_path, sim, broker, results)


@pytest.fixture
def desk_as_agent(
    database_url: str, tmp_path: Path, sim: SimHandle, broker: Broker, results: Results
) -> Iterator[Desk]:
    yield from _desk(database_url, tmp_path, sim, broker, results, send_as=[AGENT])


def _thread_item_states(page: str) -> list[str]:
    return re.findall(r'<strong class="state">(\w+)</strong>', page)


def test_a_reply_from_the_mailbox_is_sent_once_and_its_state_shown(
    desk: Desk, tmp_path: Path
) -> None:
    client = desk.agent()
    page = desk.page(client)
    assert 'value="bob@contoso.com"' not in page  # not allowed: never offered
    big = b"B" * (2 * 1024 * 1024)  # over the inline size: through the blob store
    files = [
        ("attachments", ("notes.txt", b"small notes", "text/plain")),
        ("attachments", ("scan.bin", big, "application/octet-stream")),
    ]
    answer = desk.reply(client, page, text="The printer works again.", files=files)
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=reply")
    queued = desk.page(client)
    assert _thread_item_states(queued) == ["queued"]
    again = desk.reply(client, page, text="The printer works again.", files=files)
    assert again.status_code == 303  # the same form twice: one reply, one job
    (row,) = desk.replies()
    with run_sender(desk.sim, desk.broker, desk.url, tmp_path):
        result = desk.results.wait_for(row.job_id)
    assert result.status == "sent", result
    (sent,) = sent_list(desk.sim)
    mail = parsed(sent)
    assert mail["From"].addresses[0].addr_spec == MAILBOX
    assert [a.addr_spec for a in mail["To"].addresses] == [REQUESTER]
    assert mail["Subject"] == f"Re: [#{desk.record_id}] Printer 1 is broken"
    assert mail["In-Reply-To"] == "<m1@customer.example>"
    assert mail["References"].split() == ["<m0@customer.example>", "<m1@customer.example>"]
    attached = {p.get_filename(): p.get_content() for p in mail.iter_attachments()}
    assert attached["notes.txt"].strip() == "small notes" and attached["scan.bin"] == big
    shown = desk.page(client)
    assert _thread_item_states(shown) == ["sent"]
    assert "Replied by <strong>bob</strong> as support@contoso.com" in shown
    assert _audited(desk) == 1
    # The ticketer stores the sent result on the record: the state moves into that message.
    outbox: list[Any] = []
    SentResults(desk.store, _Outbox(outbox), TicketerMetrics(), desk.store._clock).record(result)
    final = desk.page(client)
    assert _thread_item_states(final) == ["sent"]
    assert final.count("The printer works again.") == 1  # one item, not the message and a copy
    assert final.index("Request (inbound)") < final.index("Replied by <strong>bob</strong>")


def _audited(desk: Desk) -> int:
    with desk.console.store.engine.connect() as conn:
        query = select(func.count()).where(console_audit.c.action == "record replied")
        return int(conn.execute(query).scalar_one())


class _Outbox:
    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen

    def publish(self, messages: Any) -> None:
        self.seen.extend(messages)


def test_an_agent_with_the_grant_replies_as_themself(desk_as_agent: Desk, tmp_path: Path) -> None:
    desk = desk_as_agent
    set_send_as(desk.sim, [AGENT])
    client = desk.agent()
    page = desk.page(client)
    assert 'value="bob@contoso.com"' in page
    assert desk.reply(client, page, text="Done.", from_address=AGENT).status_code == 303
    (row,) = desk.replies()
    assert row.from_address == AGENT and row.username == "bob"
    with run_sender(desk.sim, desk.broker, desk.url, tmp_path, send_as=[AGENT]):
        result = desk.results.wait_for(row.job_id)
    assert result.status == "sent" and result.sent_as == AGENT
    (sent,) = sent_list(desk.sim)
    assert parsed(sent)["From"].addresses[0].addr_spec == AGENT
    shown = desk.page(client)
    assert _thread_item_states(shown) == ["sent"] and f"as {AGENT}" in shown


def test_without_exchanges_grant_the_reply_fails_with_the_hint(
    desk_as_agent: Desk, tmp_path: Path
) -> None:
    desk = desk_as_agent
    set_send_as(desk.sim, [])  # mailpipe lists the agent, Exchange grants nothing
    client = desk.agent()
    assert desk.reply(client, text="Done.", from_address=AGENT).status_code == 303
    (row,) = desk.replies()
    with run_sender(desk.sim, desk.broker, desk.url, tmp_path, send_as=[AGENT]):
        result = desk.results.wait_for(row.job_id)
    assert result.status == "failed" and result.error_code == "send_as_denied"
    shown = unescape(desk.page(client))
    assert _thread_item_states(shown) == ["failed"]
    assert "send_as_denied" in shown and "Delegation > Send as" in shown
    assert sent_list(desk.sim) == []


def test_a_forged_from_is_refused_by_the_console_and_by_the_sender(
    desk: Desk, tmp_path: Path
) -> None:
    set_send_as(desk.sim, [AGENT, "carol@contoso.com"])  # Exchange would allow: mailpipe must not
    client = desk.agent()
    for forged in (AGENT, "carol@contoso.com"):  # own address not allowed; another's
        answer = desk.reply(client, text="Forged.", from_address=forged)
        assert answer.status_code == 400
        assert 'id="from_address-error"' in answer.text and f"send as {forged}" in answer.text
        assert "Forged." in answer.text  # what was typed is kept
    assert desk.replies() == []
    # Published straight to the sender's queue, the forged job is rejected by its policy.
    with run_sender(desk.sim, desk.broker, desk.url, tmp_path):
        publish_job(desk.broker, make_job("forged-1", from_address=AGENT))
        result = desk.results.wait_for("forged-1")
    assert result.status == "rejected" and result.error_code == "send_as_not_allowed"
    assert sent_list(desk.sim) == []


def test_a_from_the_sender_no_longer_allows_is_rejected_in_the_thread(
    desk_as_agent: Desk, tmp_path: Path
) -> None:
    """The console still lists the agent (a stale form, or a changed configuration), the
    sender's own list does not: the sender decides, and the thread says why."""
    desk = desk_as_agent
    set_send_as(desk.sim, [AGENT])
    client = desk.agent()
    assert desk.reply(client, text="Done.", from_address=AGENT).status_code == 303
    (row,) = desk.replies()
    with run_sender(desk.sim, desk.broker, desk.url, tmp_path, send_as=[]):
        result = desk.results.wait_for(row.job_id)
    assert result.status == "rejected" and result.error_code == "send_as_not_allowed"
    shown = unescape(desk.page(client))
    assert _thread_item_states(shown) == ["rejected"]
    assert "send_as_not_allowed" in shown and "send_as" in (result.error_message or "")
    assert sent_list(desk.sim) == []


def test_a_reply_needs_text_and_a_session_token(desk: Desk) -> None:
    client = desk.agent()
    empty = desk.reply(client, text="   ")
    assert empty.status_code == 400 and 'id="text-error"' in empty.text
    page = desk.page(client)
    forged = client.post(
        f"/records/{desk.record_id}/reply", data={"text": "x", "from_address": MAILBOX}
    )
    assert forged.status_code == 403
    assert desk.replies() == [] and "Send the reply" in page


def test_a_broker_that_cannot_be_reached_keeps_the_form_and_sending_again_is_one_reply(
    desk: Desk,
) -> None:
    working = desk.console.publish
    assert working is not None
    handed: list[str] = []
    up: list[bool] = []

    def flaky(job: OutboundEmail) -> None:
        if not up:
            raise BrokerError("the broker cannot be reached")
        handed.append(job.job_id)
        working(job)

    desk.console.publish = flaky
    client = desk.agent()
    page = desk.page(client)
    refused = desk.reply(client, page, text="Try again.")
    assert refused.status_code == 503
    assert 'id="broker-error"' in refused.text and "broker_unavailable" in refused.text
    assert "Try again." in refused.text
    (kept,) = desk.replies()
    up.append(True)  # the broker is back: the same form sent again
    assert desk.reply(client, refused.text, text="Try again.").status_code == 303
    assert desk.replies() == [kept] and handed == [kept.job_id]
    assert _thread_item_states(desk.page(client)) == ["queued"]
    assert _audited(desk) == 1  # when stored, whether or not the broker took it then


def _handed(desk: Desk) -> list[OutboundEmail]:
    """Every job the console publishes (and publishes on), in order; before ``desk.agent()``."""
    working = desk.console.publish
    assert working is not None
    handed: list[OutboundEmail] = []

    def capture(job: OutboundEmail) -> None:
        handed.append(job)
        working(job)

    desk.console.publish = capture
    return handed


def test_a_large_file_goes_by_blob_reference_and_an_upload_session(
    desk: Desk, tmp_path: Path
) -> None:
    handed = _handed(desk)
    client = desk.agent()
    big = hashlib.sha256(b"scan").digest() * (5 * 1024 * 1024 // 32)  # 5 MiB
    assert len(big) > INLINE_BYTES
    files = [("attachments", ("scan.pdf", big, "application/pdf"))]
    assert desk.reply(client, text="The scan.", files=files).status_code == 303
    (job,) = handed
    (attached,) = job.attachments
    assert attached.content_base64 is None and attached.blob is not None
    assert (
        attached.blob.size == len(big) and attached.blob.sha256 == hashlib.sha256(big).hexdigest()
    )
    assert len(job.to_json()) < INLINE_BYTES  # the message holds the reference, not the bytes
    with run_sender(desk.sim, desk.broker, desk.url, tmp_path):
        result = desk.results.wait_for(job.job_id, timeout_s=120)
    assert result.status == "sent", result
    requests = sim_stats(desk.sim)["requests"]
    assert any("createUploadSession" in route for route in requests), requests
    (sent,) = sent_list(desk.sim)
    assert {p.get_filename(): p.get_content() for p in parsed(sent).iter_attachments()} == {
        "scan.pdf": big
    }


def test_a_large_file_without_a_blob_store_is_a_form_error_and_nothing_is_published(
    desk: Desk,
) -> None:
    desk.console.blobs = None
    handed = _handed(desk)
    client = desk.agent()
    big = b"L" * (INLINE_BYTES + 1)
    files = [("attachments", ("large.bin", big, "application/octet-stream"))]
    answer = desk.reply(client, text="Kept.", files=files)
    assert answer.status_code == 400
    error = re.search(r'<p class="error" id="attachments-error">([^<]*)</p>', answer.text)
    assert error is not None
    assert "no blob store" in error.group(1) and "MAILPIPE_BLOB_STORE" in error.group(1)
    assert 'aria-invalid="true"' in answer.text and "Kept." in answer.text
    assert handed == [] and desk.replies() == [] and _audited(desk) == 0


def test_the_form_shows_the_subject_the_job_carries(desk: Desk) -> None:
    made = desk.store.create_record_with_message(
        inbound(5, mailbox=MAILBOX, subject="AW: WG: Re:  Drucker  im 2. Stock")
    )
    assert made.record_id is not None
    desk.record_id = made.record_id
    handed = _handed(desk)
    client = desk.agent()
    page = desk.page(client)
    assert 'the subject is "<bdi dir="auto">Re: Drucker im 2. Stock</bdi>"' in page
    assert "AW: WG:" not in page.split('id="reply"')[1]
    assert desk.reply(client, page, text="Repaired.").status_code == 303
    (job,) = handed
    assert job.subject == "Re: Drucker im 2. Stock"


def test_a_body_over_the_cap_is_refused_with_413(desk: Desk) -> None:
    desk.console.body_limits = BodyLimits(upload_bytes=64 * 1024, form_bytes=8 * 1024)
    client = desk.agent()
    files = [("attachments", ("big.bin", b"x" * (100 * 1024), "application/octet-stream"))]
    answer = desk.reply(client, text="Too much.", files=files)
    assert answer.status_code == 413
    assert (
        "more than this console takes (64 KiB)" in answer.text
        and "nothing was changed" in answer.text
    )
    assert desk.replies() == []
    # Within the cap the same form goes through; every other form has the smaller cap.
    assert desk.reply(client, text="Small enough.").status_code == 303
    status = client.post(
        f"/records/{desk.record_id}/status",
        data={"status": "closed", "csrf_token": csrf_of(desk.page(client)), "pad": "p" * 9000},
    )
    assert status.status_code == 413 and "(8 KiB)" in status.text


_PART_HEAD = (
    b'--xyz\r\nContent-Disposition: form-data; name="attachments"; filename="a.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
)


def test_a_streamed_body_over_the_cap_is_not_read_to_its_end(desk: Desk) -> None:
    """No Content-Length (a chunked upload): the console stops reading at the cap."""
    desk.console.body_limits = BodyLimits(upload_bytes=64 * 1024)
    client = desk.agent()
    app = client.app
    token = client.cookies.get(SESSION_COOKIE)
    assert token is not None
    chunk, chunks = b"y" * 16 * 1024, 1000  # 16 MB offered
    taken: list[int] = []

    async def receive() -> Message:
        taken.append(1)
        more = len(taken) < chunks
        body = _PART_HEAD + chunk if len(taken) == 1 else chunk
        return {"type": "http.request", "body": body, "more_body": more}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "server": ("console.test", 443),
        "client": ("203.0.113.7", 50000),
        "path": f"/records/{desk.record_id}/reply",
        "raw_path": f"/records/{desk.record_id}/reply".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"console.test"),
            (b"cookie", f"{SESSION_COOKIE}={token}".encode()),
            (b"content-type", b"multipart/form-data; boundary=xyz"),
        ],
    }

    async def post() -> None:
        await app(scope, receive, send)

    asyncio.run(post())
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    assert len(taken) <= 64 // 16 + 1  # the cap and the chunk that crossed it, no more
    assert desk.replies() == []
