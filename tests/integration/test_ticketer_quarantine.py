"""Mail the ticketer cannot handle is quarantined with its reason; the rest is unaffected."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from libs.common.contracts import AttachmentRef, BlobRef
from mailpipe.cli import app
from tests.broker_helpers import Got, drain, publish_raw, wait_until
from tests.integration.test_ticketer_rig import mail, make_rig

__all__ = ["make_rig"]  # the fixture, imported for pytest


def test_broken_mail_among_good_ones_is_quarantined(
    make_rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig()
    missing = AttachmentRef(name="scan.pdf", blob=BlobRef(sha256="0" * 64, size=10))
    garbage = rig.blobs.put(b"\x00\xff\x00 this is no RFC 822 message \xfe")
    rig.send(
        mail(1),
        mail(2, attachments=(missing,)),
        mail(3),
        mail(4, raw_mime=garbage),
        mail(5),
    )
    done = {p.message_id: p for p in rig.processed(5)}
    assert {g: (p.outcome, p.reason) for g, p in done.items()} == {
        "AAMk-1=": ("created", None),
        "AAMk-2=": ("quarantined", "blob_missing"),
        "AAMk-3=": ("created", None),
        "AAMk-4=": ("quarantined", "bad_mime"),
        "AAMk-5=": ("created", None),
    }
    assert len(rig.store.list_records()) == 3
    # Dead-lettered as well, so that the message itself stays inspectable.
    dead: list[Got] = []

    def both_dead() -> bool:
        dead.extend(drain(rig.broker, rig.broker.names.ticketer.dead))
        return len(dead) == 2

    assert wait_until(both_dead)

    monkeypatch.setenv("MAILPIPE_DATABASE_URL", rig.database_url)
    result = CliRunner().invoke(app, ["quarantine", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert sorted((q["message_id"], q["reason"]) for q in listed) == [
        ("AAMk-2=", "blob_missing"),
        ("AAMk-4=", "bad_mime"),
    ]
    for entry in listed:
        assert set(entry) == {
            "id",
            "mailbox",
            "provider",
            "message_id",
            "folder",
            "internet_message_id",
            "subject",
            "reason",
            "detail",
            "attempts",
            "created_at",
            "replayed_at",
            "state",
            "dropped_at",
            "dropped_by",
            "drop_note",
        }
        assert entry["detail"] and entry["replayed_at"] is None and entry["state"] == "waiting"
        assert entry["mailbox"] == "support@contoso.com" and entry["provider"] == "microsoft"

    # A redelivery of a quarantined mail republishes the same outcome; no second entry.
    rig.send(mail(2, attachments=(missing,)))
    assert rig.processed(6)[-1].outcome == "quarantined"
    assert len(rig.store.list_quarantine()) == 2

    # A message that breaks the contract but names its mail: quarantined too.
    broken = json.dumps(
        {"mailbox": "support@contoso.com", "provider": "microsoft", "message_id": "AAMk-9=", "x": 1}
    )
    publish_raw(rig.broker, rig.broker.names.ticketer, broken.encode(), "AAMk-9=")
    last = rig.processed(7)[-1]
    assert (last.message_id, last.outcome, last.reason) == (
        "AAMk-9=",
        "quarantined",
        "contract_violation",
    )
