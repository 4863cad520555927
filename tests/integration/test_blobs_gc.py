"""``mailpipe blobs gc``: what garbage collection keeps and what goes, on the folder store and
on the database store (SQLite and PostgreSQL), with the records and the outbox in the same
database. Put times are set, not waited for: the database store runs on a clock the test sets,
the folder store's files get their mtime moved back."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from libs.common.blobs import BlobStorage, BlobStore
from libs.common.contracts import BlobRef, OutboundEmail
from libs.common.contracts.outbound import OutboundAttachment
from libs.common.db import make_engine
from libs.common.db.blob_gc import BlobCollector
from libs.common.db.blobs import DatabaseBlobStore
from libs.common.db.schema import blob_chunks
from services.ticketer.store import Attachment, RecordStore
from tests.db_fixtures import FakeClock, fresh_database, inbound

GRACE = timedelta(days=7)
BOX = "help@example.com"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Backend:
    store: BlobStorage
    url: str
    #: Put ``data`` as if ``age`` ago.
    put_aged: Callable[[bytes, timedelta], BlobRef]
    now: datetime


def _database(url: str) -> Iterator[Backend]:
    clock = FakeClock()
    store = DatabaseBlobStore.open(url, clock=clock)

    def put_aged(data: bytes, age: timedelta) -> BlobRef:
        clock.now = now - age
        return store.put(data)

    now = clock.now
    try:
        yield Backend(store, url, put_aged, now)
    finally:
        store.close()


def _folder(url: str, root: Path) -> Iterator[Backend]:
    store = BlobStore(root)
    now = datetime.now(UTC)

    def put_aged(data: bytes, age: timedelta) -> BlobRef:
        ref = store.put(data)
        when = (now - age).timestamp()
        os.utime(store.path(ref.sha256), (when, when))
        return ref

    yield Backend(store, url, put_aged, now)


@pytest.fixture(params=["folder", "sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    db = "sqlite" if request.param == "folder" else request.param
    for url in fresh_database(request, db, tmp_path):
        records = RecordStore.open(url)  # the schema, and the rows that name blobs
        records.close()
        if request.param == "folder":
            yield from _folder(url, tmp_path / "blobs")
        else:
            yield from _database(url)


def collector(backend: Backend) -> BlobCollector:
    engine = make_engine(backend.url)
    return BlobCollector(engine, backend.store, GRACE, clock=lambda: backend.now)


def job(job_id: str, *refs: BlobRef) -> str:
    attachments = tuple(OutboundAttachment(name=f"{r.sha256[:8]}.pdf", blob=r) for r in refs)
    email = OutboundEmail(
        job_id=job_id,
        mailbox=BOX,
        to=({"address": "ann@example.com"},),
        subject="Re: printer",
        text="Fixed.",
        attachments=attachments,
    )
    return email.to_json().decode()


def test_gc_deletes_only_old_blobs_no_record_and_no_unanswered_job_names(
    backend: Backend,
) -> None:
    old = GRACE + timedelta(days=1)
    recorded = backend.put_aged(b"attachment of a record", old)
    queued = backend.put_aged(b"attachment of a job not yet sent", old)
    sent = backend.put_aged(b"attachment of a job sent", old)
    orphan = backend.put_aged(b"raw MIME of a processed mail", old)
    fresh = backend.put_aged(b"attachment of mail still queued", timedelta(hours=1))
    records = RecordStore.open(backend.url, migrate=False)
    try:
        named = Attachment("r.pdf", recorded.sha256, recorded.size)
        records.create_record_with_message(inbound(1, attachments=(named,)))
        records.add_job("j-queued", BOX, job("j-queued", queued), delay=timedelta(0))
        records.add_job("j-sent", BOX, job("j-sent", sent), delay=timedelta(0))
        assert records.confirm_job("j-sent", "sent", "{}")
    finally:
        records.close()

    done = collector(backend).collect(batch=2)  # batches: paging must see every blob

    assert [backend.store.exists(r) for r in (recorded, queued, fresh)] == [True] * 3
    assert (done.examined, done.deleted, done.kept) == (4, 2, 2)
    assert not backend.store.exists(sent) and not backend.store.exists(orphan)
    assert backend.store.get(recorded) == b"attachment of a record"
    again = collector(backend).collect()
    assert (again.examined, again.deleted) == (2, 0), "nothing more goes"


def test_a_blob_put_again_is_claimed_anew(backend: Backend) -> None:
    data = b"the same attachment, mailed again"
    backend.put_aged(data, GRACE * 2)
    ref = backend.put_aged(data, timedelta(minutes=5))
    done = collector(backend).collect()
    assert (done.examined, done.deleted) == (0, 0) and backend.store.get(ref) == data


def test_the_database_store_drops_the_chunks_of_what_it_deletes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    for backend in _database(url):
        big = backend.put_aged(os.urandom(2_500_000), GRACE * 2)
        kept = backend.put_aged(b"recent", timedelta(0))
        assert collector(backend).collect().deleted == 1
        assert not backend.store.exists(big) and backend.store.exists(kept)
        engine = make_engine(url)
        with engine.connect() as conn:
            left = conn.execute(
                select(blob_chunks.c.sha256, func.count()).group_by(blob_chunks.c.sha256)
            ).all()
        engine.dispose()
        assert left == [(kept.sha256, 1)]


def test_the_command_collects_once_and_says_what_it_did(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    store = DatabaseBlobStore.open(url, clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    store.put(b"long forgotten")
    store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    env.update(PYTHONPATH=str(REPO), MAILPIPE_DATABASE_URL=url, MAILPIPE_BLOB_STORE="database")
    done = subprocess.run(
        [sys.executable, "-m", "mailpipe", "blobs", "gc"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 past the grace period, 1 deleted, 0 kept" in done.stdout
