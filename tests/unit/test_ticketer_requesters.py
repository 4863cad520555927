"""Requester enrichment: cached answers (negative ones too), failures never raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from libs.common.mail import DirectoryUser, MailNotFound, MailPermanentError, MailUnavailable
from services.ticketer.requesters import RequesterDirectory
from services.ticketer.store.models import Requester

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


class Cache:
    def __init__(self) -> None:
        self.rows: dict[str, Requester] = {}

    def get_requester(self, address: str) -> Requester | None:
        return self.rows.get(address)

    def put_requester(self, requester: Requester) -> None:
        self.rows[requester.address] = requester


class Graph:
    def __init__(self, answer: DirectoryUser | Exception) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def __call__(self, mailbox: str, address: str) -> DirectoryUser:
        self.calls.append(address)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_found_user_is_cached_and_not_asked_again() -> None:
    cache, graph = (
        Cache(),
        Graph(DirectoryUser("u1", display_name="Alice A", job_title="Accountant")),
    )
    lookup = RequesterDirectory(cache, graph, clock=lambda: NOW)
    first = lookup("help@contoso.com", "Alice@Contoso.com")
    second = lookup("help@contoso.com", "alice@contoso.com")
    assert first is not None and first.in_tenant and first.display_name == "Alice A"
    assert second == first
    assert graph.calls == ["Alice@Contoso.com"]


def test_unknown_user_is_cached_as_outside_the_tenant() -> None:
    cache = Cache()
    graph = Graph(MailNotFound("get user failed: HTTP 404", hint="-"))
    lookup = RequesterDirectory(cache, graph, clock=lambda: NOW)
    assert lookup("help@contoso.com", "bob@outside.example") == Requester(
        "bob@outside.example", NOW, in_tenant=False
    )
    lookup("help@contoso.com", "bob@outside.example")
    assert len(graph.calls) == 1


def test_stale_cache_entry_is_refreshed() -> None:
    cache, graph = Cache(), Graph(DirectoryUser("u2", display_name="New Name"))
    cache.rows["a@contoso.com"] = Requester(
        "a@contoso.com", NOW - timedelta(days=2), display_name="Old", in_tenant=True
    )
    found = RequesterDirectory(cache, graph, clock=lambda: NOW)("help@contoso.com", "a@contoso.com")
    assert found is not None and found.display_name == "New Name"


def test_missing_permission_pauses_lookups_for_the_mailbox() -> None:
    denied = MailPermanentError(
        "get user failed: HTTP 403 Authorization_RequestDenied", hint="grant it"
    )
    clock = [0.0]
    graph = Graph(denied)
    lookup = RequesterDirectory(
        Cache(), graph, clock=lambda: NOW, pause_s=60, monotonic=lambda: clock[0]
    )
    assert lookup("help@contoso.com", "a@contoso.com") is None
    assert lookup("help@contoso.com", "b@contoso.com") is None
    assert graph.calls == ["a@contoso.com"]
    clock[0] = 61.0
    lookup("help@contoso.com", "c@contoso.com")
    assert graph.calls == ["a@contoso.com", "c@contoso.com"]


def test_transient_failure_returns_none_and_caches_nothing() -> None:
    cache = Cache()
    graph = Graph(MailUnavailable("get user failed: HTTP 503"))
    lookup = RequesterDirectory(cache, graph, clock=lambda: NOW)
    assert lookup("help@contoso.com", "a@contoso.com") is None
    assert cache.rows == {}
    lookup("help@contoso.com", "a@contoso.com")
    assert len(graph.calls) == 2
