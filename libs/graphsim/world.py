"""Everything one simulator holds: users and their mailboxes, app registrations, delta and
upload sessions, change-notification subscriptions, fault knobs and statistics. Reset returns
it to the state it started in."""

from __future__ import annotations

import datetime as dt
import functools
import random
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from libs.graphsim import mime
from libs.graphsim.directory import App, User, display_name_for
from libs.graphsim.limits import Faults, Limiter, Stats
from libs.graphsim.notify import Notifier
from libs.graphsim.state import Folder, Mailbox, Message
from libs.graphsim.watch import Subscription

DEFAULT_TENANT = "6f1c7a5e-3d2b-4c8a-9e1f-0a2b3c4d5e6f"
DEFAULT_CLIENT = "0d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60"


@dataclass
class DeltaCursor:
    mailbox: str
    folder_id: str
    cursor: int
    epoch: int
    select: str | None
    #: Items of the round being paged: (kind, immutable id, rest id).
    pending: list[tuple[str, str, str]] = field(default_factory=list)
    offset: int = 0
    #: The log position this round ends at; becomes the next deltaLink's cursor.
    round_end: int = 0
    #: Which round this page belongs to (the statistics' open rounds per mailbox).
    round_id: str = ""


@dataclass
class UploadSession:
    mailbox: str
    message_id: str
    attachment: dict[str, Any]
    size: int
    expires: dt.datetime
    received: bytearray = field(default_factory=bytearray)


class World:
    """The simulator's whole state; handlers hold ``lock`` while they touch it."""

    def __init__(
        self,
        mailboxes: list[str],
        seed: int | None = None,
        *,
        allow_http_notifications: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        #: Graph posts notifications to https URLs only; tests run plain http receivers.
        self.allow_http_notifications = allow_http_notifications
        self.notifier = Notifier(self)
        self.initial_mailboxes = [m.lower() for m in mailboxes]
        # The default app's secret is fixed per process so a written config keeps working.
        self.default_secret = "sim-" + secrets.token_urlsafe(24)
        self.rng = random.Random(seed)
        self.token_key = secrets.token_bytes(32)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.users: dict[str, User] = {}
            self.apps: dict[tuple[str, str], App] = {}
            self.deltas: dict[str, DeltaCursor] = {}
            self.uploads: dict[str, UploadSession] = {}
            self.subscriptions: dict[str, Subscription] = {}
            self.notifier.clear()
            self.faults = Faults()
            self.stats = Stats()
            self.limiter = Limiter(self.faults, self.stats, self.rng)
            self.register_app(App(DEFAULT_TENANT, DEFAULT_CLIENT, self.default_secret))
            for address in self.initial_mailboxes:
                self.add_user(address)

    # directory ------------------------------------------------------------------------

    def add_user(
        self, address: str, display_name: str | None = None, has_mailbox: bool = True
    ) -> User:
        address = address.lower()
        existing = self.users.get(address)
        if existing is not None:
            return existing
        user_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, address))
        name = display_name or display_name_for(address)
        box = Mailbox(address, user_id, name) if has_mailbox else None
        if box is not None:
            box.listener = functools.partial(self.notifier.on_change, box)
        user = User(address, user_id, name, box)
        self.users[address] = user
        self.users[user_id] = user
        return user

    def user(self, ref: str) -> User | None:
        return self.users.get(ref.lower())

    def register_app(self, app: App) -> App:
        self.apps[(app.tenant_id.lower(), app.client_id.lower())] = app
        return app

    def app(self, tenant_id: str, client_id: str) -> App | None:
        return self.apps.get((tenant_id.lower(), client_id.lower()))

    def tenant_known(self, tenant_id: str) -> bool:
        return any(t == tenant_id.lower() for t, _ in self.apps)

    @property
    def default_app(self) -> App:
        app = self.app(DEFAULT_TENANT, DEFAULT_CLIENT)
        assert app is not None
        return app

    # mail -----------------------------------------------------------------------------

    def mailbox(self, address: str) -> Mailbox | None:
        user = self.user(address)
        return user.mailbox if user is not None else None

    def seed(
        self, box: Mailbox, raw: bytes, folder: Folder, received_at: dt.datetime | None = None
    ) -> Message:
        """Deliver one RFC 822 message into a folder, parsed once into Graph's shape."""
        when = received_at or dt.datetime.now(dt.UTC)
        fields, attachments = mime.parse(raw, when, box.address)
        # A reply joins the conversation of any message it refers to that this mailbox has.
        for ref in mime.referenced_ids(fields["internetMessageHeaders"]):
            known = box.conversations.get(ref)
            if known is not None:
                fields["conversationId"] = known
                break
        box.conversations.setdefault(fields["internetMessageId"].lower(), fields["conversationId"])
        return box.add(folder, fields, raw, attachments, when.timestamp())

    def expire_deltas(self, box: Mailbox) -> None:
        box.delta_epoch += 1
        for token in [t for t, c in self.deltas.items() if c.mailbox == box.address]:
            del self.deltas[token]
