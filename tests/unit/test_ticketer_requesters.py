"""Requester enrichment: cached answers (negative ones too), failures never raise."""

from __future__ import annotations

import threading
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


def test_transient_failure_returns_none_caches_nothing_and_pauses_briefly() -> None:
    cache = Cache()
    graph = Graph(MailUnavailable("get user failed: HTTP 503"))
    now = [0.0]
    lookup = RequesterDirectory(
        cache, graph, clock=lambda: NOW, retry_pause_s=15, pause_s=40, monotonic=lambda: now[0]
    )
    assert lookup("help@contoso.com", "a@contoso.com") is None
    assert cache.rows == {}
    # Within the pause the next new sender's mail does not wait on the failing directory.
    now[0] = 14.0
    assert lookup("help@contoso.com", "b@contoso.com") is None
    assert graph.calls == ["a@contoso.com"]
    # Other mailboxes are not paused.
    lookup("other@contoso.com", "c@contoso.com")
    assert graph.calls == ["a@contoso.com", "c@contoso.com"]
    # Each failure in a row doubles the pause (15, 30, then capped at 40).
    for at, pause in ((15.0, 30.0), (45.0, 40.0)):
        now[0] = at
        lookup("help@contoso.com", "d@contoso.com")
        now[0] = at + pause - 0.5
        lookup("help@contoso.com", "e@contoso.com")
    assert graph.calls.count("d@contoso.com") == 2 and "e@contoso.com" not in graph.calls


def test_a_lookup_that_answers_again_resets_the_passing_pause() -> None:
    cache = Cache()
    graph = Graph(MailUnavailable("get user failed: HTTP 503"))
    now = [0.0]
    lookup = RequesterDirectory(cache, graph, clock=lambda: NOW, monotonic=lambda: now[0])
    lookup("help@contoso.com", "a@contoso.com")
    now[0] = 20.0
    lookup("help@contoso.com", "a@contoso.com")  # fails again: paused 30 s
    graph.answer = DirectoryUser("u2", display_name="Bea B")
    now[0] = 51.0
    assert lookup("help@contoso.com", "b@contoso.com") is not None
    graph.answer = MailUnavailable("get user failed: HTTP 503")
    now[0] = 52.0
    lookup("help@contoso.com", "c@contoso.com")  # fails: the pause starts again at 15 s
    now[0] = 67.5
    lookup("help@contoso.com", "d@contoso.com")
    assert graph.calls[-1] == "d@contoso.com"


class _Together(Graph):
    """Fails every lookup only once ``parties`` of them are under way at the same time."""

    def __init__(self, answer: Exception, parties: int) -> None:
        super().__init__(answer)
        self.barrier = threading.Barrier(parties, timeout=10)

    def __call__(self, mailbox: str, address: str) -> DirectoryUser:
        self.calls.append(address)
        self.barrier.wait()
        assert isinstance(self.answer, Exception)
        raise self.answer


def test_lookups_failing_together_in_one_outage_pause_once_not_twice() -> None:
    now = [0.0]
    graph = _Together(MailUnavailable("get user failed: HTTP 503"), parties=2)
    lookup = RequesterDirectory(Cache(), graph, clock=lambda: NOW, monotonic=lambda: now[0])
    first = "a@contoso.com"
    # Two senders whose lookups do not wait on each other (one lookup per address at a time).
    second = next(
        f"{n}@contoso.com" for n in "bcdefgh" if hash(f"{n}@contoso.com") % 64 != hash(first) % 64
    )
    threads = [
        threading.Thread(target=lookup, args=("help@contoso.com", who)) for who in (first, second)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(graph.calls) == sorted([first, second]) and not graph.barrier.broken
    graph.barrier = threading.Barrier(1)  # the next lookup goes alone
    now[0] = 15.0  # one 15 s pause, not a doubled 30 s one
    lookup("help@contoso.com", "z@contoso.com")
    assert graph.calls[-1] == "z@contoso.com"


def test_passing_failures_far_apart_each_pause_only_briefly() -> None:
    now = [0.0]
    graph = Graph(MailUnavailable("get user failed: HTTP 503"))
    lookup = RequesterDirectory(Cache(), graph, clock=lambda: NOW, monotonic=lambda: now[0])
    for hour in range(6):
        now[0] = hour * 3600.0
        lookup("help@contoso.com", f"u{hour}@contoso.com")
    now[0] += 15.0
    lookup("help@contoso.com", "next@contoso.com")
    assert graph.calls[-1] == "next@contoso.com"


def test_a_passing_failure_does_not_shorten_the_permission_pause() -> None:
    now = [0.0]
    graph = Graph(
        MailPermanentError("get user failed: HTTP 403", code="Authorization_RequestDenied")
    )
    lookup = RequesterDirectory(Cache(), graph, clock=lambda: NOW, monotonic=lambda: now[0])
    lookup("help@contoso.com", "a@contoso.com")  # refused: paused 10 minutes
    graph.answer = MailUnavailable("get user failed: HTTP 503")
    # A lookup that began before the refusal fails afterwards with a passing error.
    lookup._failed("help@contoso.com", "x@contoso.com", graph.answer, None, started=0.0)
    now[0] = 300.0
    lookup("help@contoso.com", "b@contoso.com")
    assert graph.calls == ["a@contoso.com"]


def test_senders_a_pause_skipped_are_looked_up_once_it_is_over() -> None:
    cache, now = Cache(), [0.0]
    graph = Graph(MailUnavailable("get user failed: HTTP 503"))
    lookup = RequesterDirectory(
        cache, graph, clock=lambda: NOW, retry_pause_s=15, monotonic=lambda: now[0]
    )
    assert lookup("help@contoso.com", "a@contoso.com") is None  # fails, pauses 15 s
    now[0] = 5.0
    assert lookup("help@contoso.com", "B@contoso.com") is None  # skipped: paused
    assert lookup.owed() == 2
    assert lookup.catch_up() == 0, "still paused: nobody is asked"
    assert graph.calls == ["a@contoso.com"]
    now[0] = 16.0
    graph.answer = DirectoryUser("u", display_name="Someone", department="Finance")
    assert lookup.catch_up(limit=1) == 1
    assert lookup.catch_up(limit=5) == 1
    assert lookup.owed() == 0 and lookup.catch_up() == 0
    assert graph.calls == ["a@contoso.com", "a@contoso.com", "B@contoso.com"]
    assert {r.department for r in cache.rows.values()} == {"Finance"}
    assert sorted(cache.rows) == ["a@contoso.com", "b@contoso.com"]


def test_a_sender_that_fails_again_stays_owed_and_pauses_the_mailbox() -> None:
    now = [0.0]
    graph = Graph(MailUnavailable("get user failed: HTTP 503"))
    lookup = RequesterDirectory(Cache(), graph, clock=lambda: NOW, monotonic=lambda: now[0])
    lookup("help@contoso.com", "a@contoso.com")
    lookup("help@contoso.com", "b@contoso.com")
    now[0] = 16.0
    assert lookup.catch_up() == 0
    # The first asked failed and paused the mailbox: the second was not asked meanwhile.
    assert graph.calls == ["a@contoso.com", "a@contoso.com"]
    assert lookup.owed() == 2


def test_a_sender_answered_in_the_meantime_is_no_longer_owed() -> None:
    now = [0.0]
    graph = Graph(MailUnavailable("get user failed: HTTP 503"))
    lookup = RequesterDirectory(Cache(), graph, clock=lambda: NOW, monotonic=lambda: now[0])
    lookup("help@contoso.com", "a@contoso.com")
    now[0] = 16.0
    graph.answer = DirectoryUser("u", display_name="A")
    assert lookup("help@contoso.com", "A@contoso.com") is not None  # their next mail
    assert lookup.owed() == 0 and lookup.catch_up() == 0


def test_the_senders_owed_are_bounded_oldest_dropped() -> None:
    graph = Graph(MailUnavailable("get user failed: HTTP 503"))
    lookup = RequesterDirectory(Cache(), graph, clock=lambda: NOW, owed_size=3)
    for n in range(5):
        lookup("help@contoso.com", f"s{n}@contoso.com")
    assert lookup.owed() == 3
