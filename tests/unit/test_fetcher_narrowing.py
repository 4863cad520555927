"""The pure rules of isolating what Graph cannot serve and of a refused credential: which
failed reads may be one message's fault, how the reads narrow and relax, when a failure is
proven to be a mail's (a lone mail's while its error repeats), and the backoff and log
throttling of a refused credential (a fake clock; no sleeps)."""

from __future__ import annotations

import itertools

import pytest

from libs.common.graph.errors import (
    DeltaExpired,
    GraphAuthError,
    GraphError,
    GraphNotFound,
    error_from_response,
    transport_error,
)
from services.fetcher.credential import CAP_S, LOG_EVERY_S, CredentialBackoff
from services.fetcher.narrowing import (
    OUTAGE_AFTER,
    RELAX_AFTER,
    SMALL_PAGE,
    Ladder,
    Reads,
    is_read_fault,
    is_retryable_read_fault,
)


def graph(status: int, code: str = "", retry_after_s: float | None = None) -> GraphError:
    body = {"error": {"code": code, "message": "m"}} if code else None
    return error_from_response(status, body, retry_after_s=retry_after_s)


@pytest.mark.parametrize(
    ("exc", "fault", "retryable"),
    [
        (graph(500, "ErrorInternalServerError"), True, True),
        (graph(502), True, True),
        (graph(503), True, True),  # no Retry-After: not Graph pacing us
        (graph(504), True, True),
        (transport_error("delta", TimeoutError()), True, True),  # ReadTimeout-like: code timeout
        (graph(400, "ErrorInvalidIdMalformed"), True, False),
        (graph(413, "RequestEntityTooLarge"), True, False),
        (graph(429, "ApplicationThrottled", retry_after_s=3), False, False),
        (graph(503, "ServiceUnavailable", retry_after_s=3), False, False),
        (graph(504, "GatewayTimeout", retry_after_s=3), False, False),
        (graph(403, "ErrorAccessDenied"), False, False),
        (graph(404, "ErrorInvalidUser"), False, False),
        (graph(404, "ErrorItemNotFound"), False, False),
        (graph(410, "SyncStateNotFound"), False, False),
        (GraphAuthError("refused", status=401, code="AADSTS7000222", hint="h"), False, False),
        (ValueError("not Graph"), False, False),
    ],
)
def test_which_failed_reads_may_be_one_message_s_fault(
    exc: BaseException, fault: bool, retryable: bool
) -> None:
    assert is_read_fault(exc) is fault
    assert is_retryable_read_fault(exc) is retryable


def test_a_connection_error_is_graph_unreachable_never_a_message() -> None:
    from httpx import ConnectError

    err = transport_error("delta", ConnectError("refused"))
    assert err.code == "connection_error" and not is_read_fault(err)
    assert isinstance(graph(404, "ErrorItemNotFound"), GraphNotFound)
    assert isinstance(graph(410, "SyncStateNotFound"), DeltaExpired)


def test_the_ladder_narrows_step_by_step_and_relaxes() -> None:
    ladder = Ladder()
    assert ladder.mode == "full" and ladder.page_size(100) == 100
    assert ladder.delta_failed() == "small" and ladder.page_size(100) == SMALL_PAGE
    assert ladder.page_size(4) == 4, "never larger than configured"
    assert ladder.delta_failed() == "by_id"
    assert not ladder.by_id_done(unread=1) and ladder.mode == "by_id", "the bad mail is left"
    assert ladder.by_id_done(unread=0) and ladder.mode == "small", "delta again: the link moves"
    assert [ladder.delta_read() for _ in range(RELAX_AFTER)] == [False] * (RELAX_AFTER - 1) + [True]
    assert ladder.mode == "full"
    assert not ladder.delta_read(), "full pages stay full"


def test_a_failure_at_small_pages_starts_the_calm_count_again() -> None:
    ladder = Ladder()
    ladder.delta_failed()
    for _ in range(RELAX_AFTER - 1):
        ladder.delta_read()
    ladder.delta_failed()
    ladder.by_id_done(0)
    assert [ladder.delta_read() for _ in range(RELAX_AFTER - 1)] == [False] * (RELAX_AFTER - 1)
    assert ladder.mode == "small"


def test_a_read_is_proven_to_be_a_mail_s_when_another_of_its_kind_succeeded() -> None:
    reads = Reads()
    reads.failed("mime")
    assert not reads.proven("mime") and not reads.everything_fails("mime")
    for _ in range(OUTAGE_AFTER - 1):
        reads.failed("mime")
    assert reads.everything_fails("mime"), "none served, several failed: Graph, not the mail"
    reads.succeeded("attachments")
    assert not reads.proven("mime"), "another kind of read proves nothing"
    reads.succeeded("mime")
    assert reads.proven("mime") and not reads.everything_fails("mime")
    reads.succeeded("message", 0)
    assert not reads.proven("message")


def test_a_lone_mail_s_count_goes_on_only_while_its_error_repeats() -> None:
    from services.fetcher.evidence import LastErrors, Signature

    last = LastErrors()
    first: Signature = ("mime", 500, "ErrorInternalServerError")
    assert not last.restarts("a", first, "alone"), "the first failure counts"
    assert not last.restarts("a", first, "alone"), "the same error again goes on"
    other: Signature = ("mime", 502, "BadGateway")
    assert not last.restarts("a", other, "served"), "another mail served: counts whatever"
    assert last.restarts("a", first, "alone"), "alone with another error: start again"
    last.restarts("b", first, "alone")
    last.retain(lambda message_id: message_id == "b")
    assert len(last) == 1 and not last.restarts("a", other, "alone"), "forgotten: afresh"


# -- a refused credential -----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


KEY = ("AADSTS7000222", "create a new secret")


def test_a_refused_credential_is_tried_again_later_and_later_up_to_five_minutes() -> None:
    clock = Clock()
    backoff = CredentialBackoff(base_s=1.0, clock=clock)
    start = clock.now
    attempts = []
    for second in range(1200):
        clock.now = start + second
        if backoff.due():
            attempts.append(second)
            backoff.refused(KEY)
    assert attempts[:10] == [0, 1, 3, 7, 15, 31, 63, 127, 255, 511]
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert max(gaps) == CAP_S and gaps[-1] == CAP_S
    assert backoff.wait_s() <= CAP_S


def test_a_refusal_is_logged_at_most_once_a_minute_while_nothing_changes() -> None:
    clock = Clock()
    backoff = CredentialBackoff(base_s=1.0, clock=clock, cap_s=5.0)
    logged = []
    for second in range(0, 300):
        clock.now = 1000.0 + second
        if backoff.due():
            refusal = backoff.refused(KEY)
            if refusal.log:
                logged.append((second, refusal.unlogged))
    assert logged[0] == (0, 0)
    assert len(logged) <= 300 / LOG_EVERY_S + 1
    assert all(b[0] - a[0] >= LOG_EVERY_S for a, b in itertools.pairwise(logged))
    assert all(unlogged > 0 for _, unlogged in logged[1:]), "each line says how many it hid"


def test_a_changed_refusal_is_logged_at_once_and_recovery_resets() -> None:
    clock = Clock()
    backoff = CredentialBackoff(base_s=30.0, clock=clock)
    assert backoff.refused(KEY).log
    clock.now += 30
    assert not backoff.refused(KEY).log
    clock.now += 1
    changed = backoff.refused(("AADSTS7000215", "copy the secret's Value"))
    assert changed.log and changed.refusals == 3 and changed.retry_in_s == 120.0
    assert backoff.refused_now and not backoff.due()
    assert backoff.accepted() == 3, "recovery reports the refusals in a row"
    assert not backoff.refused_now and backoff.due() and backoff.wait_s() == 0.0
    assert backoff.accepted() == 0, "nothing to report twice"
    again = backoff.refused(KEY)
    assert again.log and again.refusals == 1 and again.retry_in_s == 30.0


def test_a_mail_whose_read_failed_stays_a_suspect_until_it_is_done() -> None:
    from services.fetcher.unpublishable import FailureCounts

    counts = FailureCounts()
    counts.suspect("a")
    counts.failed("b")
    assert counts.is_suspect("a") and counts.is_suspect("b") and not counts.is_suspect("c")
    assert len(counts) == 1, "a suspect is not a counted failure"
    counts.forget("a")
    counts.retain(["x"])
    assert not counts.is_suspect("a") and not counts.is_suspect("b")
