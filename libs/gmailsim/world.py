"""Everything one simulator holds: the domain's mailboxes, service accounts and the
domain-wide delegation granted to them, access tokens, upload sessions, faults and statistics.
Reset returns it to the state it started in (the default service account keeps its key)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from libs.gmailsim.accounts import (
    DEFAULT_SCOPES,
    AccessToken,
    ServiceAccount,
    new_account,
    new_key,
)
from libs.gmailsim.limits import Faults, Quota, Stats
from libs.gmailsim.people import Person, new_person
from libs.gmailsim.state import Mailbox, Message


@dataclass
class UploadSession:
    user: str
    thread_id: str | None
    size: int | None
    received: bytearray = field(default_factory=bytearray)
    #: Expired or ended by an error: every PUT to it is 404 (it still stands for its user, so
    #: a PUT without Authorization learns that rather than a 401).
    gone: bool = False
    #: The sent message's resource, once the last byte is in.
    done: dict[str, Any] | None = None


class World:
    """The simulator's whole state; handlers hold ``lock`` while they touch it."""

    def __init__(self, mailboxes: list[str], seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.initial_mailboxes = [m.lower() for m in mailboxes]
        self.rng = random.Random(seed)
        #: ``https://host:port`` clients reach the simulator by; set by the server once bound.
        self.root_url = "https://localhost"
        self.default_account = new_account("mailpipe")
        self._default_key: dict[str, Any] | None = None
        self.reset()

    @property
    def token_uri(self) -> str:
        return f"{self.root_url}/token"

    def reset(self) -> None:
        with self.lock:
            self.mailboxes: dict[str, Mailbox] = {}
            #: The directory's users (address → profile): one per mailbox.
            self.people: dict[str, Person] = {}
            self.accounts: dict[str, ServiceAccount] = {}
            self.delegation: dict[str, frozenset[str]] = {}
            self.tokens: dict[str, AccessToken] = {}
            self.uploads: dict[str, UploadSession] = {}
            self.faults = Faults()
            self.stats = Stats()
            self.quota = Quota(self.faults, self.stats, self.rng)
            self.add_account(self.default_account, DEFAULT_SCOPES)
            for address in self.initial_mailboxes:
                self.add_mailbox(address)

    def default_key(self) -> dict[str, Any]:
        """The default service account's key file (made once per process, like a download)."""
        with self.lock:
            if self._default_key is None:
                self._default_key = new_key(self.default_account, self.token_uri)
            return dict(self._default_key)

    def add_account(self, account: ServiceAccount, scopes: tuple[str, ...] = ()) -> None:
        self.accounts[account.client_email.lower()] = account
        if scopes:
            self.delegation[account.client_id] = frozenset(scopes)

    def account_by_id(self, client_id: str) -> ServiceAccount | None:
        return next((a for a in self.accounts.values() if a.client_id == client_id), None)

    def add_mailbox(self, address: str) -> Mailbox:
        address = address.lower()
        if address not in self.mailboxes:
            self.mailboxes[address] = Mailbox(address)
            self.people[address] = new_person(address)
        return self.mailboxes[address]

    def person(self, key: str) -> Person | None:
        """The user of that address (any case) or id, as ``users.get`` takes either."""
        found = self.people.get(key.lower())
        return found or next((p for p in self.people.values() if p.id == key), None)

    @property
    def domains(self) -> set[str]:
        """The Workspace's domains: those of its users."""
        return {a.rsplit("@", 1)[-1] for a in self.people}

    def mailbox(self, address: str) -> Mailbox | None:
        return self.mailboxes.get(address.lower())

    def seed(
        self, box: Mailbox, raw: bytes, labels: set[str], when_ms: int | None = None
    ) -> Message:
        when = when_ms if when_ms is not None else int(time.time() * 1000)
        return box.add(raw, labels, when, None)
