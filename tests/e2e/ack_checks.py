"""Who the corpus run acknowledged: never a null sender, never automatic mail, only the From
address (never Reply-To), never the mailbox's own domain or a lookalike of it; at most once
per record. Both what the ticketer decided (``ack_log``) and what the sender really sent (the
simulator's sent mail) are checked."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tests.e2e.accounting import Findings, Seeded, Snapshot
from tests.e2e.ack_ids import ack_record_id
from tests.e2e.harness import Stack

#: The mailbox's own domain, and any domain that merely contains it (contoso.com.evil.org).
OWN_DOMAIN_MARK = "contoso"


def sent_acks(stack: Stack) -> list[tuple[int, list[str]]]:
    """(record id, recipients) of every acknowledgement the simulator saw sent."""
    out = []
    for entry in stack.sent(stack.mailboxes[0]):
        job = str(entry["headers"].get("X-Mailpipe-Job-Id", ""))
        if job.startswith("ack:"):
            recipients = [*entry["to"], *entry["cc"], *entry["bcc"]]
            record = ack_record_id(job)
            assert record is not None, job
            out.append((record, [str(a).lower() for a in recipients]))
    return out


def check_acks(stack: Stack, seeded: Sequence[Seeded], snap: Snapshot, findings: Findings) -> None:
    by_record = {
        snap.log[s.message_id]["record_id"]: s
        for s in seeded
        if snap.log.get(s.message_id, {}).get("outcome") == "created"
    }
    sent = sent_acks(stack)
    decided = [(r["record_id"], [str(r["recipient"]).lower()]) for r in stack.rows("ack_log")]
    for record_id, recipients in [*decided, *sent]:
        item = by_record.get(record_id)
        if item is None:
            findings.add("acknowledgement for a record no seeded mail created", str(record_id))
            continue
        check_ack(item, recipients, findings)
    for record_id, count in Counter(r for r, _ in sent).items():
        if count > 1:
            name = by_record[record_id].sample.name if record_id in by_record else str(record_id)
            findings.add("acknowledged twice", name, f"{count} acknowledgements")


def check_ack(item: Seeded, recipients: list[str], findings: Findings) -> None:
    """The rules for one acknowledgement of ``item`` sent to ``recipients``."""
    name, facts = item.sample.name, item.facts
    if facts.null_sender:
        findings.add("acknowledged a null sender (Return-Path: <>)", name)
    if item.sample.kind == "automatic":
        findings.add("acknowledged automatic mail", name, item.sample.note)
    for address in recipients:
        domain = address.rpartition("@")[2]
        if OWN_DOMAIN_MARK in domain:
            findings.add(
                "acknowledgement to the mailbox's own domain or a lookalike", name, address
            )
        if not same_sender(address, facts.from_address):
            cause = (
                "acknowledgement to Reply-To"
                if address in facts.reply_to
                else "acknowledgement not to the From address"
            )
            findings.add(cause, name, f"{address} (From: {facts.from_address or 'none'})")


def same_sender(address: str, from_address: str) -> bool:
    """``address`` is the From address. Raw 8-bit in an address names no charset: each
    provider reads those bytes its own way (Graph as U+FFFD, the Gmail adapter by the mail's
    charset hint), so a non-ASCII character matches any other one, and ASCII must agree."""
    if address == from_address:
        return True
    if address.isascii() and from_address.isascii():
        return False
    return _skeleton(address) == _skeleton(from_address)


def _skeleton(address: str) -> str:
    return "".join(c if c.isascii() else "\ufffd" for c in address)
