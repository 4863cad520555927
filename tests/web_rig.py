"""The web console driven in-process: Starlette's TestClient on the real app and a real
database, with a clock the test moves (no sleeping) and cheap argon2 parameters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from libs.common.blobs import BlobStorage
from libs.common.contracts import RecordEvent
from services.web.admin import create_account
from services.web.app import build_app
from services.web.auth import Accounts
from services.web.changes import Announce
from services.web.domain.body_limits import BodyLimits
from services.web.domain.tokens import SessionPolicy
from services.web.health_report import HealthSource
from services.web.mailboxes import Mailboxes
from services.web.replies import Publish
from services.web.store import ConsoleStore, User

ADMIN_PASSWORD = "admin password 12345"
AGENT_PASSWORD = "agent password 67890"

_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def cheap_hasher() -> PasswordHasher:
    """argon2id at its smallest cost: the tests hash dozens of passwords."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Console:
    """One console on one database; :meth:`client` is a browser of its own."""

    store: ConsoleStore
    accounts: Accounts
    clock: Clock
    #: Every page body any client of this console received.
    pages: list[str] = field(default_factory=list)
    #: Session tokens a test wants to look for where they must never be.
    cookies_seen: list[str] = field(default_factory=list)
    #: The integrations the console shows (none: an empty, read-only list).
    mailboxes: Mailboxes | None = None
    #: How a reply's job is published, and the blob store of large files (replies tests).
    publish: Publish | None = None
    blobs: BlobStorage | None = None
    #: The largest request bodies (none: the console's defaults).
    body_limits: BodyLimits | None = None
    #: The record events of agents' changes: kept here unless ``announce`` publishes them.
    events: list[RecordEvent] = field(default_factory=list)
    announce: Announce | None = None

    def client(
        self, address: str = "203.0.113.7", health_source: HealthSource | None = None
    ) -> TestClient:
        app = build_app(
            self.accounts,
            health_source=health_source,
            mailboxes=self.mailboxes,
            publish=self.publish,
            blobs=self.blobs,
            body_limits=self.body_limits,
            announce=self.announcer(),
        )
        client = TestClient(
            app, base_url="https://console.test", client=(address, 50000), follow_redirects=False
        )
        client.event_hooks["response"] = [self._keep]
        return client

    def announcer(self) -> Announce:
        """How the console publishes its record events: ``announce``, else into ``events``."""
        return self.announce or self.events.append

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        self.pages.append(response.text)

    def add_user(self, username: str, role: str, password: str) -> User:
        return create_account(self.accounts, username, username.title(), role, password)


def open_console(database_url: str, policy: SessionPolicy | None = None) -> Iterator[Console]:
    clock = Clock()
    store = ConsoleStore.open(database_url, clock=clock)
    accounts = Accounts(store, clock, policy or SessionPolicy(), hasher=cheap_hasher())
    try:
        yield Console(store, accounts, clock)
    finally:
        store.close()


def csrf_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def sign_in(
    client: TestClient, username: str, password: str, next_path: str = "/"
) -> httpx.Response:
    """The login form fetched and sent, as a browser does."""
    token = csrf_of(client.get("/login").text)
    data = {"username": username, "password": password, "csrf_token": token, "next": next_path}
    return client.post("/login", data=data)


def post_form(client: TestClient, path: str, data: dict[str, Any], page: str) -> httpx.Response:
    """``data`` posted to ``path`` with the session's token read from ``page``."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token})
