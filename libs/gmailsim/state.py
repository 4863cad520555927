"""One simulated Gmail mailbox: messages with their labels and threads, user labels, the
history log behind ``historyId``, sent mail and send-as aliases."""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from libs.gmailsim import mime

#: System labels every mailbox has (Gmail's ids are their names).
SYSTEM_LABELS = (
    "INBOX",
    "SENT",
    "DRAFT",
    "TRASH",
    "SPAM",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "CHAT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
)
#: History kept per mailbox; older start ids are 404, as after Gmail's retention.
HISTORY_CAP = 500_000
#: Timeline entries kept per mailbox (the control API's ``events``).
MAX_EVENTS = 200_000


@dataclass
class Label:
    id: str
    name: str
    type: str = "user"

    def resource(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.type == "user":
            body["messageListVisibility"] = "show"
            body["labelListVisibility"] = "labelShow"
        return body

    @property
    def key(self) -> str:
        """How the control API names it: system labels by lower-case id, user labels by name."""
        return self.id.lower() if self.type == "system" else self.name


@dataclass
class Message:
    id: str
    thread_id: str
    raw: bytes
    internal_date_ms: int
    label_ids: set[str]
    history_id: int
    parsed: mime.Parsed

    def ref(self) -> dict[str, str]:
        return {"id": self.id, "threadId": self.thread_id}


@dataclass
class Mailbox:
    address: str
    messages: dict[str, Message] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    history_id: int = 1000
    #: (history id, record) oldest first; a start id below ``history_floor`` is expired.
    history: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    history_floor: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    #: alias address → verificationStatus (``accepted`` or ``pending``)
    send_as: dict[str, str] = field(default_factory=dict)
    #: Off: the user's Gmail service is turned off in the Admin console, or the user is
    #: suspended; every Gmail call as the user is 400 failedPrecondition.
    gmail_enabled: bool = True
    next_label: int = 1
    #: Message-ID → the latest message carrying it, for threading.
    by_message_id: dict[str, Message] = field(default_factory=dict)
    #: (epoch seconds, ``added``/``removed``, label key as in ``counts``, message id) per
    #: label change: when mail arrived and left, which history ids (a sequence) cannot say.
    events: deque[tuple[float, str, str, str]] = field(
        default_factory=lambda: deque(maxlen=MAX_EVENTS)
    )

    def __post_init__(self) -> None:
        for name in SYSTEM_LABELS:
            self.labels[name] = Label(name, name, "system")

    # labels -----------------------------------------------------------------------------

    def label(self, key: str) -> Label | None:
        """A label by id, or by name (case-insensitive)."""
        if key in self.labels:
            return self.labels[key]
        lowered = key.lower()
        return next((lb for lb in self.labels.values() if lb.name.lower() == lowered), None)

    def add_label(self, name: str) -> Label:
        label = Label(f"Label_{self.next_label}", name)
        self.next_label += 1
        self.labels[label.id] = label
        return label

    def counts(self) -> dict[str, int]:
        """Messages per label, system labels by lower-case id, user labels by name."""
        out: dict[str, int] = {}
        for label in self.labels.values():
            out[label.key] = sum(1 for m in self.messages.values() if label.id in m.label_ids)
        return out

    def _timeline(self, kind: str, label_ids: Iterable[str], msg: Message) -> None:
        now = time.time()
        for label_id in sorted(label_ids):
            label = self.labels.get(label_id)
            if label is not None:
                self.events.append((now, kind, label.key, msg.id))

    # history ----------------------------------------------------------------------------

    def record(self, kind: str, msg: Message, labels: list[str] | None = None) -> int:
        """A change: a new history id, and a record of ``kind`` (messagesAdded, messagesDeleted,
        labelsAdded, labelsRemoved) carrying the message as it is now."""
        self.history_id += 1
        item: dict[str, Any] = {"message": {**msg.ref(), "labelIds": sorted(msg.label_ids)}}
        if labels is not None:
            item["labelIds"] = labels
        record = {"id": str(self.history_id), "messages": [msg.ref()], kind: [item]}
        self.history.append((self.history_id, record))
        msg.history_id = self.history_id
        if len(self.history) > HISTORY_CAP:
            dropped = self.history[: len(self.history) - HISTORY_CAP]
            del self.history[: len(dropped)]
            self.history_floor = dropped[-1][0]
        return self.history_id

    def expire_history(self) -> None:
        """Every history id handed out so far is now too old (Gmail's 404 on history.list),
        the mailbox's current one included; the id moves on, so that a new listing's cursor
        is valid again."""
        self.history.clear()
        self.history_id += 1
        self.history_floor = self.history_id

    # messages ---------------------------------------------------------------------------

    def thread_for(self, parsed: mime.Parsed) -> str | None:
        """The thread a message joins: the thread of a message it refers to (In-Reply-To or
        References) whose subject matches once Re:/Fwd: prefixes are dropped."""
        for ref in parsed.references:
            other = self.by_message_id.get(ref)
            if other is not None and other.parsed.topic == parsed.topic:
                return other.thread_id
        return None

    def add(self, raw: bytes, labels: set[str], when_ms: int, thread_id: str | None) -> Message:
        parsed = mime.parse(raw)
        msg_id = secrets.token_hex(8)
        thread = thread_id or self.thread_for(parsed) or msg_id
        msg = Message(msg_id, thread, raw, when_ms, set(labels), 0, parsed)
        self.messages[msg_id] = msg
        self._timeline("added", msg.label_ids, msg)
        if parsed.message_id:
            self.by_message_id[parsed.message_id] = msg
        self.record("messagesAdded", msg)
        return msg

    def change_labels(self, msg: Message, add: set[str], remove: set[str]) -> None:
        added = sorted(add - msg.label_ids)
        removed = sorted(remove & msg.label_ids - set(added))
        msg.label_ids |= set(added)
        msg.label_ids -= set(removed)
        self._timeline("added", added, msg)
        self._timeline("removed", removed, msg)
        if added:
            self.record("labelsAdded", msg, added)
        if removed:
            self.record("labelsRemoved", msg, removed)

    def delete(self, msg: Message) -> None:
        del self.messages[msg.id]
        self._timeline("removed", msg.label_ids, msg)
        if self.by_message_id.get(msg.parsed.message_id) is msg:
            del self.by_message_id[msg.parsed.message_id]
        self.record("messagesDeleted", msg)

    def threads_total(self) -> int:
        return len({m.thread_id for m in self.messages.values()})
