"""What became of every mail of the real-world corpus test, and what must not have happened.

:func:`seed_all` posts every sample through the simulator's control API (a refusal is a
finding, not an exception); :func:`settled` says when the inbox is empty and every mail has an
outcome; :func:`account` reads the database and the mailbox once and returns
:class:`Findings`: problems grouped by cause, each naming its mails, so that a red run says
precisely which mail failed and why. ``Findings.quarantined`` lists the quarantine reasons
for the report (a quarantined mail is accounted for; a quarantined *request* is a problem).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from libs.common.msgid import canonical_message_id
from tests.e2e.harness import Stack
from tests.e2e.samples import RawFacts, Sample, raw_facts

QUARANTINE_FOLDER = "mailpipe-quarantine"
STORED = ("created", "appended")


@dataclass(frozen=True)
class Seeded:
    sample: Sample
    facts: RawFacts
    message_id: str


@dataclass
class Findings:
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    quarantined: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, cause: str, name: str, detail: str = "") -> None:
        entry = f"{name}: {detail}" if detail else name
        if entry not in self.problems[cause]:
            self.problems[cause].append(entry)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def text(self) -> str:
        lines = []
        for cause, items in sorted(self.problems.items()):
            lines.append(f"{cause} ({len(items)}):")
            lines += [f"    {item}" for item in items]
        if self.quarantined:
            lines.append("quarantined, by reason:")
            lines += [f"    {r}: {', '.join(n)}" for r, n in sorted(self.quarantined.items())]
        return "\n".join(lines)


def seed_all(stack: Stack, samples: Sequence[Sample], findings: Findings) -> list[Seeded]:
    """Every sample into the first mailbox, in order; a refusal is recorded as a finding."""
    path = f"/_sim/mailboxes/{stack.mailboxes[0]}/messages"
    seeded = []
    with stack.world.control() as control:
        for sample in samples:
            try:
                answer = control.request("POST", path, content=sample.raw)
            except Exception as exc:  # the simulator dropped the connection: a finding
                findings.add("the simulator refused the mail", sample.name, repr(exc)[:200])
                continue
            if answer.status_code != 201:
                detail = f"HTTP {answer.status_code} {answer.text[:200]}"
                findings.add("the simulator refused the mail", sample.name, detail)
                continue
            seeded.append(Seeded(sample, raw_facts(sample.raw), str(answer.json()["id"])))
    return seeded


@dataclass(frozen=True)
class Snapshot:
    """The database and the mailbox, read once after the run."""

    log: dict[str, dict[str, Any]]
    quarantine: dict[str, list[dict[str, Any]]]
    messages: dict[str, list[dict[str, Any]]]
    all_messages: list[dict[str, Any]]
    records: list[dict[str, Any]]
    folders: dict[str, set[str]]
    #: Where handled mail goes: Recoverable Items on Microsoft, the trash on Google.
    removed_folder: str

    @classmethod
    def read(cls, stack: Stack) -> Snapshot:
        box = stack.mailboxes[0]
        quarantine: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in stack.rows("quarantine"):
            if row["replayed_at"] is None:
                quarantine[row["message_id"]].append(row)
        inbound = [m for m in stack.rows("record_messages") if m["direction"] == "in"]
        messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in inbound:
            messages[str(row["message_id"])].append(row)
        folders = {
            name: {m["id"] for m in stack.folder_messages(name, box)} for name in stack.folders(box)
        }
        return cls(
            log={gid: row for (mb, gid), row in stack.processed_log().items() if mb == box},
            quarantine=quarantine,
            messages=messages,
            all_messages=inbound,
            records=stack.rows("records"),
            folders=folders,
            removed_folder=stack.world.removed_folder,
        )

    def where(self, message_id: str) -> str:
        return ", ".join(sorted(f for f, ids in self.folders.items() if message_id in ids)) or "?"


def settled(stack: Stack, seeded: Sequence[Seeded]) -> bool:
    """The inbox is empty and every seeded mail has an outcome or a quarantine entry."""
    if stack.folders(stack.mailboxes[0]).get("inbox", 0):
        return False
    known = {gid for (_, gid) in stack.processed_log()}
    known |= {row["message_id"] for row in stack.rows("quarantine")}
    return all(s.message_id in known for s in seeded)


def account(stack: Stack, seeded: Sequence[Seeded], findings: Findings) -> Snapshot:
    """Every check but the acknowledgements and the stored text (``ack_checks.py``,
    ``text_checks.py``)."""
    snap = Snapshot.read(stack)
    for item in seeded:
        _one(item, snap, findings)
    _kinds(seeded, snap, findings)
    _nothing_twice(seeded, snap, findings)
    _message_ids(seeded, snap, findings)
    if snap.folders.get("inbox"):
        names = [s.sample.name for s in seeded if s.message_id in snap.folders["inbox"]]
        findings.add("left in the inbox", ", ".join(names) or "(mail the test did not seed)")
    return snap


def _one(item: Seeded, snap: Snapshot, findings: Findings) -> None:
    name, gid = item.sample.name, item.message_id
    row, quarantined = snap.log.get(gid), snap.quarantine.get(gid, [])
    if row is None and not quarantined:
        findings.add("not accounted for (no outcome, no quarantine entry)", name, snap.where(gid))
        return
    if row is None or row["outcome"] == "quarantined":
        reasons = [q["reason"] for q in quarantined if (q["reason"] or "").strip()]
        if not reasons:
            findings.add("quarantined without a reason", name)
        for reason in reasons:
            findings.quarantined[reason].append(name)
        if gid not in snap.folders.get(QUARANTINE_FOLDER, set()):
            findings.add("quarantined but not in the quarantine folder", name, snap.where(gid))
        return
    if len(quarantined) > 0:
        findings.add("an outcome and an open quarantine entry", name, row["outcome"])
    if gid not in snap.folders.get(snap.removed_folder, set()):
        cause = f"handled but not deleted (not in {snap.removed_folder})"
        findings.add(cause, name, snap.where(gid))
    if row["outcome"] == "ignored" and not (row["reason"] or "").strip():
        findings.add("ignored without a reason", name)
    if row["outcome"] in STORED:
        stored = snap.messages.get(gid, [])
        if len(stored) != 1 or stored[0]["record_id"] != row["record_id"]:
            detail = f"{row['outcome']} on record {row['record_id']}, {len(stored)} stored"
            findings.add("outcome without its stored message", name, detail)


def _kinds(seeded: Sequence[Seeded], snap: Snapshot, findings: Findings) -> None:
    copies = _copies(seeded, snap)
    for item in seeded:
        row = snap.log.get(item.message_id)
        if row is None:
            continue
        outcome, reason = row["outcome"], str(row["reason"] or "")
        said = f"{outcome} ({reason})" if reason else outcome
        if reason.startswith("duplicate") and item.message_id not in copies:
            findings.add("dropped as a duplicate of a different mail", item.sample.name, said)
        copy = reason.startswith("duplicate") and item.message_id in copies
        if item.sample.kind == "request" and outcome not in STORED and not copy:
            findings.add("a person's mail did not become a record", item.sample.name, said)
        if item.sample.kind == "automatic" and outcome == "created":
            findings.add("automatic mail opened a record", item.sample.name, said)


def _copies(seeded: Sequence[Seeded], snap: Snapshot) -> set[str]:
    """Graph ids of mails that have a copy (same Message-ID as logged, same sender, subject
    and body) among the other seeded mails: only those may be dropped as duplicates."""
    groups: dict[str, list[Seeded]] = defaultdict(list)
    for item in seeded:
        mid = (snap.log.get(item.message_id) or {}).get("internet_message_id")
        if mid:
            groups[str(mid).lower()].append(item)
    found = set()
    for members in groups.values():
        for item in members:
            if any(o is not item and o.facts.copy_key == item.facts.copy_key for o in members):
                found.add(item.message_id)
    return found


def _nothing_twice(seeded: Sequence[Seeded], snap: Snapshot, findings: Findings) -> None:
    ours = {s.message_id for s in seeded}
    created = [
        snap.log[g]["record_id"] for g in ours if snap.log.get(g, {}).get("outcome") == "created"
    ]
    if len(set(created)) != len(created) or len(snap.records) != len(created):
        detail = f"{len(snap.records)} records for {len(created)} created outcomes"
        findings.add("records made twice", "all", detail)
    for item in seeded:
        if len(snap.messages.get(item.message_id, [])) > 1:
            findings.add("one mail stored twice", item.sample.name)
    by_mid: dict[str, int] = defaultdict(int)
    for row in snap.all_messages:
        if row["internet_message_id"]:
            by_mid[str(row["internet_message_id"]).lower()] += 1
    for mid, count in by_mid.items():
        if count > 1:
            findings.add("one Message-ID on two stored messages", mid[:120], f"{count} times")
    _copies_stored_once(seeded, snap, findings)


def _copies_stored_once(seeded: Sequence[Seeded], snap: Snapshot, findings: Findings) -> None:
    """The very same mail delivered again (same Message-ID, sender and subject, byte for byte
    the same body: a resend, a Cc copy) is stored once; the others are duplicates."""
    groups: dict[tuple[str, str, str, str], list[Seeded]] = defaultdict(list)
    for item in seeded:
        facts = item.facts
        if facts.message_id is not None:
            sender, subject, _ = facts.copy_key
            groups[(facts.message_id.lower(), sender, subject, facts.body_digest)].append(item)
    for members in groups.values():
        stored = [m for m in members if snap.messages.get(m.message_id)]
        if len(stored) > 1:
            names = ", ".join(m.sample.name for m in stored)
            outcomes = ", ".join(
                f"{snap.log[m.message_id]['outcome']}:{snap.log[m.message_id]['reason'] or ''}"
                for m in stored
                if m.message_id in snap.log
            )
            findings.add("copies of one mail stored more than once", names, outcomes)


def _message_ids(seeded: Sequence[Seeded], snap: Snapshot, findings: Findings) -> None:
    """A plain Message-ID reaches the log as the mail wrote it (in its canonical form)."""
    for item in seeded:
        row = snap.log.get(item.message_id)
        if row is None or item.facts.message_id is None or not row["internet_message_id"]:
            continue
        logged = canonical_message_id(str(row["internet_message_id"])) or ""
        if logged.lower() != item.facts.message_id.lower():
            detail = f"{item.facts.message_id[:80]} logged as {logged[:80]}"
            findings.add("Message-ID changed on the way", item.sample.name, detail)
