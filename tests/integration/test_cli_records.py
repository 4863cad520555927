"""``mailpipe records`` and ``mailpipe quarantine``: JSON shapes, tables, replay (simulator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from libs.graphsim.testing import SimHandle
from mailpipe.cli import app
from services.ticketer.store import Attachment, DeliveryFailure, NewMessage, Party, RecordStore
from tests.db_fixtures import inbound

BOX = "support@contoso.com"
RECORD_KEYS = {
    "id",
    "mailbox",
    "subject",
    "requester",
    "status",
    "message_count",
    "created_at",
    "updated_at",
}
MESSAGE_KEYS = {
    "id",
    "direction",
    "kind",
    "internet_message_id",
    "from",
    "to",
    "cc",
    "subject",
    "body_text",
    "truncated",
    "received_at",
    "attachments",
    "delivery_failures",
}


def run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    return result


@pytest.fixture
def seeded(store: RecordStore, database_url: str, monkeypatch: pytest.MonkeyPatch) -> RecordStore:
    monkeypatch.setenv("MAILPIPE_DATABASE_URL", database_url)
    pdf = Attachment(name="scan.pdf", sha256="a" * 64, size=123, content_type="application/pdf")
    first = store.create_record_with_message(inbound(1, mailbox=BOX, attachments=(pdf,)))
    store.create_record_with_message(inbound(2, mailbox=BOX))
    assert first.record_id is not None
    ours = NewMessage(
        mailbox=BOX,
        direction="out",
        kind="outbound",
        received_at=inbound(3).received_at,
        internet_message_id="<ours-1@mailpipe.contoso.com>",
        from_=Party(BOX),
        to=(Party("user1@customer.example"),),
        subject="Re: [#1] Printer 1 is broken",
        body_text="We are on it.",
    )
    store.record_outbound(first.record_id, ours)
    failure = DeliveryFailure(
        "user1@customer.example", "5.1.1", "user unknown", ours.internet_message_id
    )
    store.append_message(
        first.record_id,
        inbound(4, mailbox=BOX, kind="delivery_failure", delivery_failures=(failure,)),
        reopen=False,
    )
    store.set_status(first.record_id, "pending")
    return store


def test_records_list_json(seeded: RecordStore) -> None:
    result = run("records", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [r["id"] for r in listed] == [1, 2]
    assert all(set(r) == RECORD_KEYS for r in listed)
    assert listed[0]["message_count"] == 3 and listed[0]["status"] == "pending"
    assert listed[0]["requester"] == {"address": "user1@customer.example", "name": "User 1"}
    only_open = json.loads(run("records", "list", "--json", "--status", "open").stdout)
    assert [r["id"] for r in only_open] == [2]
    assert json.loads(run("records", "list", "--json", "--mailbox", "x@y.example").stdout) == []


def test_records_show_json(seeded: RecordStore) -> None:
    result = run("records", "show", "1", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert set(shown) >= RECORD_KEYS
    assert [m["direction"] for m in shown["messages"]] == ["in", "out", "in"]
    assert all(set(m) == MESSAGE_KEYS for m in shown["messages"])
    first, ours, bounce = shown["messages"]
    assert first["attachments"][0]["name"] == "scan.pdf"
    assert first["body_text"] == "Hello, printer 1 jams. Grüße"
    assert ours["internet_message_id"] == "<ours-1@mailpipe.contoso.com>"
    assert bounce["delivery_failures"] == [
        {
            "recipient": "user1@customer.example",
            "status": "5.1.1",
            "diagnostic": "user unknown",
            "original_message_id": "<ours-1@mailpipe.contoso.com>",
        }
    ]


def test_records_tables_and_missing_record(
    seeded: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps cells to the terminal's width
    listed = run("records", "list")
    assert listed.exit_code == 0 and "Printer 1 is broken" in listed.stdout
    shown = run("records", "show", "1")
    assert shown.exit_code == 0 and "5.1.1" in shown.stdout
    missing = run("records", "show", "99")
    assert missing.exit_code == 1 and "record 99 does not exist" in missing.output


def _write_config(sim: SimHandle, path: Path) -> Path:
    path.write_text(
        "[graph]\n"
        f'base_url = "{sim.base_url}"\n'
        f'authority_host = "{sim.authority_host}"\n'
        f'ca_bundle = "{sim.ca_bundle}"\n'
        "[[mailboxes]]\n"
        f'address = "{BOX}"\n'
        f'tenant_id = "{sim.tenant_id}"\n'
        f'client_id = "{sim.client_id}"\n'
        f'client_secret = "{sim.client_secret}"\n'
    )
    return path


def test_quarantine_list_and_replay(
    store: RecordStore,
    database_url: str,
    sim: SimHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAILPIPE_DATABASE_URL", database_url)
    monkeypatch.setenv("MAILPIPE_CONFIG", str(_write_config(sim, tmp_path / "mailpipe.toml")))
    raw = (
        b"From: a@customer.example\r\nTo: support@contoso.com\r\nSubject: broken\r\n"
        b"Message-ID: <q1@customer.example>\r\n\r\nbody\r\n"
    )
    with sim.control() as control:
        seeded = control.post(
            f"/_sim/mailboxes/{BOX}/messages",
            params={"folder": "mailpipe-quarantine"},
            content=raw,
            headers={"Content-Type": "message/rfc822"},
        )
        seeded.raise_for_status()
    message_id = seeded.json()["id"]
    store.quarantine_email(
        BOX,
        message_id,
        "bad_mime",
        detail="no headers",
        attempts=1,
        internet_message_id="<q1@customer.example>",
        subject="broken",
        provider="microsoft",
    )
    store.quarantine_email(BOX, "AAMk-gone=", "blob_missing", subject="gone", provider="microsoft")

    listed = json.loads(run("quarantine", "list", "--json").stdout)
    assert [(q["message_id"], q["reason"]) for q in listed] == [
        (message_id, "bad_mime"),
        ("AAMk-gone=", "blob_missing"),
    ]
    monkeypatch.setenv("COLUMNS", "200")
    table = run("quarantine", "list")
    assert table.exit_code == 0 and "bad_mime" in table.stdout

    replayed = run("quarantine", "replay", str(listed[0]["id"]))
    assert replayed.exit_code == 0, replayed.output
    with sim.control() as control:
        inbox = control.get(f"/_sim/mailboxes/{BOX}/folders/inbox/messages").json()
        held = control.get(f"/_sim/mailboxes/{BOX}/folders/mailpipe-quarantine/messages").json()
    assert [m["id"] for m in inbox] == [message_id] and held == []
    assert store.processed_outcome(BOX, message_id) is None  # handled afresh when fetched again
    assert [q.message_id for q in store.list_quarantine()] == ["AAMk-gone="]

    not_there = run("quarantine", "replay", str(listed[1]["id"]))
    assert not_there.exit_code == 2 and "not in folder" in not_there.output
    assert run("quarantine", "replay", "999").exit_code == 2
