"""``mailpipe quarantine drop`` against the Graph simulator, on SQLite and PostgreSQL: the mail
leaves the quarantine folder (soft-deleted), the entry is kept as history and hidden from the
list, a dropped entry is never replayed, a mail already gone is no error, --yes is needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from libs.common.db.quarantine import EntryDropped, EntryReplayed
from libs.graphsim.testing import SimHandle
from mailpipe.cli import app
from services.ticketer.store import RecordStore

BOX = "support@contoso.com"
FOLDER = "mailpipe-quarantine"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def _config(sim: SimHandle, path: Path) -> Path:
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


def _messages(sim: SimHandle, folder: str) -> list[str]:
    with sim.control() as control:
        answer = control.get(f"/_sim/mailboxes/{BOX}/folders/{folder}/messages")
    answer.raise_for_status()
    return [m["id"] for m in answer.json()]


def _quarantined(sim: SimHandle, store: RecordStore, n: int) -> tuple[int, str]:
    raw = (
        f"From: a@customer.example\r\nTo: {BOX}\r\nSubject: junk {n}\r\n"
        f"Message-ID: <junk-{n}@customer.example>\r\n\r\nbuy now\r\n"
    ).encode()
    with sim.control() as control:
        seeded = control.post(
            f"/_sim/mailboxes/{BOX}/messages",
            params={"folder": FOLDER},
            content=raw,
            headers={"Content-Type": "message/rfc822"},
        )
    seeded.raise_for_status()
    message_id = str(seeded.json()["id"])
    store.quarantine_email(
        BOX,
        message_id,
        "bad_mime",
        internet_message_id=f"<junk-{n}@customer.example>",
        subject=f"junk {n}",
        provider="microsoft",
    )
    return store.list_quarantine()[-1].id, message_id


@pytest.fixture
def configured(
    store: RecordStore,
    database_url: str,
    sim: SimHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> RecordStore:
    monkeypatch.setenv("MAILPIPE_DATABASE_URL", database_url)
    monkeypatch.setenv("MAILPIPE_CONFIG", str(_config(sim, tmp_path / "mailpipe.toml")))
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps cells to the terminal's width
    return store


def test_drop_deletes_the_mail_and_keeps_the_entry_as_history(
    configured: RecordStore, sim: SimHandle
) -> None:
    entry, message_id = _quarantined(sim, configured, 1)
    kept, _ = _quarantined(sim, configured, 2)
    dropped = run("quarantine", "drop", str(entry), "--note", "spam from a bot", "--yes")
    assert dropped.exit_code == 0, dropped.output
    assert f"dropped entry {entry}: its mail was deleted" in dropped.stdout
    assert message_id not in _messages(sim, FOLDER) and len(_messages(sim, FOLDER)) == 1
    assert message_id not in _messages(sim, "inbox")

    listed = json.loads(run("quarantine", "list", "--json").stdout)
    assert [q["id"] for q in listed] == [kept] and listed[0]["state"] == "waiting"
    every = {q["id"]: q for q in json.loads(run("quarantine", "list", "--all", "--json").stdout)}
    assert every[entry]["state"] == "dropped" and every[entry]["drop_note"] == "spam from a bot"
    assert every[entry]["dropped_by"].endswith("(cli)") and every[entry]["dropped_at"]
    assert every[entry]["replayed_at"] is None
    table = run("quarantine", "list", "--all")
    assert table.exit_code == 0 and "dropped by" in table.stdout and "waiting" in table.stdout
    assert "junk 2" in run("quarantine", "list").stdout
    assert "junk 1" not in run("quarantine", "list").stdout


def test_a_dropped_entry_is_never_replayed_nor_dropped_again(
    configured: RecordStore, sim: SimHandle
) -> None:
    entry, _ = _quarantined(sim, configured, 1)
    assert run("quarantine", "drop", str(entry), "--yes").exit_code == 0
    replay = run("quarantine", "replay", str(entry))
    assert replay.exit_code == 2
    assert "was dropped" in replay.output and "cannot be replayed" in replay.output
    again = run("quarantine", "drop", str(entry), "--yes")
    assert again.exit_code == 2 and "cannot be dropped again" in again.output
    assert configured.get_quarantine(entry) is not None
    assert _messages(sim, "inbox") == []


def test_a_replayed_entry_cannot_be_dropped(configured: RecordStore, sim: SimHandle) -> None:
    entry, message_id = _quarantined(sim, configured, 1)
    assert run("quarantine", "replay", str(entry)).exit_code == 0
    refused = run("quarantine", "drop", str(entry), "--yes")
    assert refused.exit_code == 2 and "was replayed" in refused.output
    assert _messages(sim, "inbox") == [message_id]


def test_a_mail_already_gone_still_drops_the_entry(configured: RecordStore, sim: SimHandle) -> None:
    other, other_id = _quarantined(sim, configured, 1)  # the folder holds other mail
    configured.quarantine_email(
        BOX, "AAMk-gone=", "blob_missing", subject="gone", provider="microsoft"
    )
    entry = configured.list_quarantine()[-1].id
    dropped = run("quarantine", "drop", str(entry), "--yes")
    assert dropped.exit_code == 0, dropped.output
    assert "its mail was already gone" in dropped.stdout
    after = configured.get_quarantine(entry)
    assert after is not None and after.state == "dropped" and after.drop_note is None
    assert [q.id for q in configured.list_quarantine()] == [other]
    assert _messages(sim, FOLDER) == [other_id]


def test_drop_needs_yes_and_an_entry(configured: RecordStore, sim: SimHandle) -> None:
    entry, message_id = _quarantined(sim, configured, 1)
    refused = run("quarantine", "drop", str(entry))
    assert refused.exit_code == 2 and "add --yes" in refused.output
    assert _messages(sim, FOLDER) == [message_id]
    assert [q.id for q in configured.list_quarantine()] == [entry]
    missing = run("quarantine", "drop", "999", "--yes")
    assert missing.exit_code == 2 and "quarantine entry 999 does not exist" in missing.output


def test_the_store_refuses_to_mark_an_entry_decided_the_other_way(
    configured: RecordStore, sim: SimHandle
) -> None:
    """Two people at once: a replay marked after a drop (or the reverse) is refused in the
    write itself, whatever the entry looked like when it was read."""
    dropped, _ = _quarantined(sim, configured, 1)
    replayed, _ = _quarantined(sim, configured, 2)
    configured.mark_dropped(dropped, "alice", "spam")
    configured.mark_dropped(dropped, "bob", "again")  # a second drop changes nothing
    with pytest.raises(EntryDropped, match="dropped by alice"):
        configured.mark_replayed(dropped)
    configured.mark_replayed(replayed)
    with pytest.raises(EntryReplayed, match="was replayed"):
        configured.mark_dropped(replayed, "bob", "")
    first = configured.get_quarantine(dropped)
    assert first is not None and (first.dropped_by, first.drop_note) == ("alice", "spam")
    assert first.replayed_at is None
    second = configured.get_quarantine(replayed)
    assert second is not None and second.state == "replayed" and second.dropped_at is None
