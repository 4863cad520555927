"""What the demo shows: rich renderables over plain data (no I/O here)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from libs.common.record_token import record_token
from services.ticketer.store.models import Party, RecordDetail, RecordSummary, StoredMessage

RECOVERABLE = "recoverableitemsdeletions"
#: Characters of a message body shown in a thread.
EXCERPT = 90


@dataclass(frozen=True)
class Snapshot:
    """The numbers the live status shows."""

    folders: Mapping[str, int]
    sent: int
    records: int

    @property
    def inbox(self) -> int:
        return int(self.folders.get("inbox", 0))

    @property
    def recoverable(self) -> int:
        return int(self.folders.get(RECOVERABLE, 0))


def status(phase: str, snap: Snapshot) -> Table:
    table = Table(title=phase, title_justify="left", min_width=60)
    for column in ("inbox", "Recoverable Items", "records", "sent"):
        table.add_column(column, justify="right")
    table.add_row(str(snap.inbox), str(snap.recoverable), str(snap.records), str(snap.sent))
    return table


def party(p: Party | None) -> str:
    if p is None:
        return "-"
    return f"{p.name} <{p.address}>" if p.name else p.address


def records_table(records: Sequence[RecordSummary], token_format: str) -> Table:
    table = Table(title="Records", title_justify="left")
    for column in ("record", "subject", "requester", "status", "messages"):
        table.add_column(column)
    for r in records:
        table.add_row(
            *map(
                Text,
                (
                    record_token(r.id, token_format),
                    r.subject,
                    party(r.requester),
                    r.status,
                    str(r.message_count),
                ),
            )
        )
    return table


def _excerpt(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def message_lines(m: StoredMessage) -> list[Text]:
    arrow = "→ out" if m.direction == "out" else "← in "
    lines = [Text(f"  {arrow} {m.kind:<16} {party(m.from_)}  {m.subject}")]
    if m.body_text:
        lines.append(Text(f"        {_excerpt(m.body_text)}", style="dim"))
    for a in m.attachments:
        where = "inline" if a.inline else "attachment"
        lines.append(Text(f"        {where}: {a.name} ({a.content_type}, {a.size} bytes)"))
    for f in m.delivery_failures:
        lines.append(
            Text(f"        not delivered to {f.recipient}: {f.status} {f.diagnostic}", style="red")
        )
    return lines


def thread_order(messages: Iterable[StoredMessage]) -> list[StoredMessage]:
    """Messages as they happened: by received time at whole seconds (what mail dates carry),
    then by when they were stored; and an answer never before the message it answers.

    A customer's reply dated 12:00:00 to an acknowledgement stored at 12:00:00.7 would come
    first by time alone."""
    ordered = sorted(messages, key=lambda m: (m.received_at.replace(microsecond=0), m.id))
    for _ in range(len(ordered)):  # each pass moves answers after what they answer
        position = {
            m.internet_message_id: i for i, m in enumerate(ordered) if m.internet_message_id
        }
        late = next(
            (
                (i, position[m.in_reply_to])
                for i, m in enumerate(ordered)
                if m.in_reply_to in position and position[m.in_reply_to] > i
            ),
            None,
        )
        if late is None:
            break
        answer, answered = late
        ordered.insert(answered, ordered.pop(answer))
    return ordered


def thread(detail: RecordDetail, token_format: str) -> Group:
    head = Text(f"{record_token(detail.record.id, token_format)} {detail.record.subject}")
    head.stylize("bold")
    body: list[RenderableType] = [head]
    for m in thread_order(detail.messages):
        body.extend(message_lines(m))
    return Group(*body)


#: Graph's well-known folder names as Outlook shows them; other folders go by their own name.
FOLDER_NAMES = {
    "inbox": "Inbox",
    RECOVERABLE: "Recoverable Items (deleted, kept 30 days)",
    "sentitems": "Sent Items",
    "deleteditems": "Deleted Items",
    "drafts": "Drafts",
    "junkemail": "Junk Email",
    "archive": "Archive",
    "outbox": "Outbox",
}


def folder_name(name: str) -> str:
    return FOLDER_NAMES.get(name.lower(), name)


def mailbox_table(address: str, folders: Mapping[str, int], sent: int) -> Table:
    table = Table(title=f"Mailbox {address}", title_justify="left")
    table.add_column("folder")
    table.add_column("messages", justify="right")
    table.add_row(folder_name("inbox"), str(folders.get("inbox", 0)))
    table.add_row(folder_name(RECOVERABLE), str(folders.get(RECOVERABLE, 0)))
    for name, count in sorted(folders.items(), key=lambda item: folder_name(item[0]).lower()):
        if name not in ("inbox", RECOVERABLE) and count:
            table.add_row(Text(folder_name(name)), str(count))
    table.add_row("sent by mailpipe", str(sent))
    return table


def replies_table(sent: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(title="Replies sent", title_justify="left")
    table.add_column("to")
    table.add_column("subject")
    for mail in sent:
        # Text, not markup: a record token such as "[#1]" would read as a style tag.
        to = ", ".join(str(a) for a in mail.get("to", []))
        table.add_row(Text(to), Text(str(mail.get("subject", ""))))
    return table
