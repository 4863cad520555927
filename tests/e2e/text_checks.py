"""What the corpus run stored as text: no NUL anywhere; no U+FFFD where every part of the source
named a charset that decodes it; the subjects and bodies whose decoding is certain, exactly."""

from __future__ import annotations

from collections.abc import Sequence

from tests.e2e.accounting import Findings, Seeded, Snapshot
from tests.e2e.harness import Stack

TEXT_COLUMNS = {
    "records": ("subject", "requester_name"),
    "record_messages": ("subject", "body_text", "body_html", "from_name"),
    "quarantine": ("subject", "detail"),
    "processed_log": ("reason",),
}
MESSAGE_TEXT = ("subject", "body_text", "body_html", "from_name")


def check_texts(stack: Stack, seeded: Sequence[Seeded], snap: Snapshot, findings: Findings) -> None:
    for table, columns in TEXT_COLUMNS.items():
        for row in stack.rows(table):
            for column in columns:
                if "\x00" in str(row[column] or ""):
                    findings.add("NUL stored", f"{table}.{column} of row {row['id']}")
    for item in seeded:
        stored = snap.messages.get(item.message_id, [])
        if len(stored) == 1:
            _check_message(item, stored[0], findings)


def _check_message(item: Seeded, message: dict[str, object], findings: Findings) -> None:
    name, sample = item.sample.name, item.sample
    if item.facts.clean_text:
        for column in MESSAGE_TEXT:
            value = str(message[column] or "")
            if "\ufffd" in value:
                at = value.index("\ufffd")
                detail = f"{column}: {value[max(0, at - 30) : at + 30]!r}"
                findings.add("U+FFFD stored for text its charset decodes", name, detail)
    if sample.subject is not None and message["subject"] != sample.subject:
        findings.add("subject decoded wrongly", name, f"{str(message['subject'])[:80]!r}")
    if sample.body is not None and sample.body not in str(message["body_text"] or ""):
        findings.add("body decoded wrongly", name, f"{str(message['body_text'])[:80]!r}")
