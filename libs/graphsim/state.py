"""The simulator's in-memory mailboxes: folders, messages, change logs for delta, sent mail.

Plain data and plain functions, no HTTP. Every mutation appends to the folder's change log,
which is what delta queries read. Messages carry two ids, as in Exchange: an immutable id
(stable for the life of the item) and a REST id that changes whenever the item moves.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Well-known folder names and their display names. ``recoverableitemsdeletions`` is where a
#: soft delete lands; it is not under the root, so it is not listed with the other folders.
WELL_KNOWN: dict[str, str] = {
    "msgfolderroot": "Top of Information Store",
    "inbox": "Inbox",
    "drafts": "Drafts",
    "sentitems": "Sent Items",
    "deleteditems": "Deleted Items",
    "junkemail": "Junk Email",
    "outbox": "Outbox",
    "archive": "Archive",
    "recoverableitemsdeletions": "Deletions",
}
HIDDEN = frozenset({"msgfolderroot", "recoverableitemsdeletions"})

UPSERT = "upsert"
REMOVED = "removed"
#: Graph's change types, as a mailbox tells its listener (change notifications).
CREATED, UPDATED, DELETED = "created", "updated", "deleted"
#: Timeline entries kept per mailbox (the oldest go first); enough for a long benchmark.
MAX_EVENTS = 500_000


def _b64id(prefix: bytes, size: int = 35) -> str:
    # Graph ids are url-safe base64 with a recognisable prefix and, like real ones, usually
    # end in "=", so clients must escape them in URLs.
    return base64.urlsafe_b64encode(prefix + secrets.token_bytes(size)).decode()


def new_rest_id() -> str:
    return _b64id(b"\x00\x03\x24")


def new_immutable_id() -> str:
    return _b64id(b"\x00\x09\x00")


def new_folder_id() -> str:
    return _b64id(b"\x00\x03\x2e", 32)


def new_change_key() -> str:
    return base64.b64encode(b"\x10\x00\x00\x00" + secrets.token_bytes(12)).decode()


@dataclass(eq=False)
class Message:
    immutable_id: str
    rest_id: str
    folder: Folder
    #: Graph properties, without ``id``, ``parentFolderId`` and ``changeKey``.
    fields: dict[str, Any]
    mime: bytes
    #: fileAttachment dicts in Graph's shape (``contentBytes`` base64).
    attachments: list[dict[str, Any]]
    #: (receivedDateTime epoch seconds, arrival sequence): a total order for listing.
    sort_key: tuple[float, int]
    change_key: str = field(default_factory=new_change_key)


@dataclass(eq=False)
class Folder:
    id: str
    display_name: str
    well_known: str | None
    parent_id: str | None
    messages: dict[str, Message] = field(default_factory=dict)
    #: (sequence, kind, immutable id, rest id as it was) per change, oldest first.
    log: list[tuple[int, str, str, str]] = field(default_factory=list)
    children: int = 0

    @property
    def name(self) -> str:
        """The name the control API reports counts under."""
        return self.well_known or self.display_name


@dataclass(eq=False)
class Mailbox:
    address: str
    user_id: str
    display_name: str
    folders: dict[str, Folder] = field(default_factory=dict)
    index: dict[str, Message] = field(default_factory=dict)
    seq: int = 0
    #: Raising the epoch expires every delta token of this mailbox (410 SyncStateNotFound).
    delta_epoch: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    send_as: set[str] = field(default_factory=set)
    #: internetMessageId (lower case) → conversationId, so replies join their thread.
    conversations: dict[str, str] = field(default_factory=dict)
    #: (epoch seconds, kind, folder name, immutable id) per change: when mail arrived and
    #: when it left, which the change log (sequence numbers only) cannot say.
    events: deque[tuple[float, str, str, str]] = field(
        default_factory=lambda: deque(maxlen=MAX_EVENTS)
    )
    #: Told (change type, folder, message) on every change: the change notifications' source.
    listener: Callable[[str, Folder, Message], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        root = Folder(new_folder_id(), WELL_KNOWN["msgfolderroot"], "msgfolderroot", None)
        self.folders[root.id] = root
        for name, display in WELL_KNOWN.items():
            if name == "msgfolderroot":
                continue
            parent = None if name == "recoverableitemsdeletions" else root.id
            self._add_folder(Folder(new_folder_id(), display, name, parent))

    # folders --------------------------------------------------------------------------

    def _add_folder(self, folder: Folder) -> Folder:
        self.folders[folder.id] = folder
        if folder.parent_id in self.folders:
            self.folders[folder.parent_id].children += 1
        return folder

    def folder(self, ref: str) -> Folder | None:
        """A folder by id or well-known name (case-insensitive), as Graph resolves them."""
        found = self.folders.get(ref)
        if found is not None:
            return found
        low = ref.lower()
        for folder in self.folders.values():
            if folder.well_known == low:
                return folder
        return None

    def by_display_name(self, name: str, parent_id: str | None = None) -> Folder | None:
        low = name.lower()
        for folder in self.folders.values():
            if folder.display_name.lower() == low and (
                parent_id is None or folder.parent_id == parent_id
            ):
                return folder
        return None

    @property
    def root(self) -> Folder:
        found = self.folder("msgfolderroot")
        assert found is not None
        return found

    def create_folder(self, display_name: str, parent: Folder | None = None) -> Folder | None:
        """A new folder, or ``None`` when the parent already has one of that name."""
        parent = parent or self.root
        if self.by_display_name(display_name, parent.id) is not None:
            return None
        return self._add_folder(Folder(new_folder_id(), display_name, None, parent.id))

    def destination(self, ref: str) -> Folder:
        """A move/copy target: id, well-known name, or display name (created when missing)."""
        found = self.folder(ref) or self.by_display_name(ref)
        if found is not None:
            return found
        created = self.create_folder(ref)
        assert created is not None
        return created

    # messages -------------------------------------------------------------------------

    def _log(self, folder: Folder, kind: str, msg: Message, change: str) -> None:
        self.seq += 1
        folder.log.append((self.seq, kind, msg.immutable_id, msg.rest_id))
        self.events.append((time.time(), kind, folder.name, msg.immutable_id))
        if self.listener is not None:
            self.listener(change, folder, msg)

    def add(
        self,
        folder: Folder,
        fields: dict[str, Any],
        mime: bytes,
        attachments: list[dict[str, Any]],
        received_ts: float,
    ) -> Message:
        self.seq += 1
        msg = Message(
            new_immutable_id(),
            new_rest_id(),
            folder,
            fields,
            mime,
            attachments,
            (received_ts, self.seq),
        )
        self._place(msg, folder)
        return msg

    def _place(self, msg: Message, folder: Folder) -> None:
        msg.folder = folder
        folder.messages[msg.immutable_id] = msg
        self.index[msg.immutable_id] = msg
        self.index[msg.rest_id] = msg
        self._log(folder, UPSERT, msg, CREATED)

    def _unplace(self, msg: Message) -> None:
        self._log(msg.folder, REMOVED, msg, DELETED)
        del msg.folder.messages[msg.immutable_id]
        self.index.pop(msg.rest_id, None)

    def message(self, any_id: str) -> Message | None:
        return self.index.get(any_id)

    def move(self, msg: Message, dest: Folder) -> Message:
        """Move keeps the immutable id and issues a new REST id, as Exchange does."""
        if dest is msg.folder:
            return msg
        self._unplace(msg)
        msg.rest_id = new_rest_id()
        msg.change_key = new_change_key()
        self._place(msg, dest)
        return msg

    def copy(self, msg: Message, dest: Folder) -> Message:
        self.seq += 1
        clone = Message(
            new_immutable_id(),
            new_rest_id(),
            dest,
            dict(msg.fields),
            msg.mime,
            [dict(a) for a in msg.attachments],
            (msg.sort_key[0], self.seq),
        )
        self._place(clone, dest)
        return clone

    def purge(self, msg: Message) -> None:
        self._unplace(msg)
        self.index.pop(msg.immutable_id, None)

    def touch(self, msg: Message) -> None:
        msg.change_key = new_change_key()
        self._log(msg.folder, UPSERT, msg, UPDATED)

    def changes_since(self, folder: Folder, cursor: int) -> list[tuple[str, str, str]]:
        """(kind, immutable id, rest id) per item changed after ``cursor``, last change wins."""
        latest: dict[str, tuple[str, str, str]] = {}
        for seq, kind, immutable_id, rest_id in reversed(folder.log):
            if seq <= cursor:
                break
            latest.setdefault(immutable_id, (kind, immutable_id, rest_id))
        return list(reversed(latest.values()))

    def counts(self) -> dict[str, int]:
        return {
            f.name: len(f.messages)
            for f in self.folders.values()
            if f.well_known != "msgfolderroot"
        }
