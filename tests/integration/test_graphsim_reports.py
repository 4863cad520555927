"""A delivery report's parts come back as attachments with their bytes (none empty)."""

from __future__ import annotations

import base64
from pathlib import Path

from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import graph, seed

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bounces" / "mail"


def test_report_parts_are_attachments_with_their_bytes(sim: SimHandle) -> None:
    raw = (CORPUS / "lhost-exchange2007-07.eml").read_bytes()
    assert b"multipart/report" in raw, "corpus mail changed"
    message_id = seed(sim, raw)
    with graph(sim) as client:
        resp = client.get(f"/users/support@contoso.com/messages/{message_id}/attachments")
    resp.raise_for_status()
    parts = {a["contentType"]: base64.b64decode(a["contentBytes"]) for a in resp.json()["value"]}
    assert all(parts.values()), {k: len(v) for k, v in parts.items()}
    assert b"Status: 5." in parts["message/delivery-status"]
    assert b"Message-ID:" in parts["message/rfc822"] or b"Message-Id:" in parts["message/rfc822"]
