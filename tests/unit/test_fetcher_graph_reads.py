"""The Graph client's reads the fetcher's isolation relies on, on httpx.MockTransport: delta
pages one by one (those before a failing page are kept), messages by ``$batch`` with each
one's own error, a shorter retry budget for one thread's calls, and one WARNING line at the
first failure of a retried request (its route, status and request id; retries at DEBUG)."""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from libs.common.graph import GraphNotFound, GraphUnavailable
from libs.common.mail import MailMessage

from .graph_helpers import BASE, graph_error, make_mail

USER = "/users/help@contoso.test"


def delta_pages(request: httpx.Request) -> httpx.Response:
    """Three pages; the third always fails."""
    token = request.url.params.get("$skiptoken")
    if token is None:
        body = {
            "value": [{"id": "a"}, {"id": "b"}],
            "@odata.nextLink": f"{BASE}{USER}/d?$skiptoken=2",
        }
    elif token == "2":
        body = {
            "value": [{"id": "c"}, {"id": "gone", "@removed": {}}],
            "@odata.nextLink": f"{BASE}{USER}/d?$skiptoken=3",
        }
    else:
        return graph_error(500, "ErrorInternalServerError")
    return httpx.Response(200, json=body)


def test_delta_pages_come_one_by_one_and_those_before_a_failure_are_kept() -> None:
    mail, _, _, _, _ = make_mail(delta_pages, budget_s=0.0)
    seen: list[str] = []
    with pytest.raises(GraphUnavailable) as info:
        for page in mail.iter_delta("inbox", f"{BASE}{USER}/d", page_size=2):
            seen += [m.id for m in page.messages] + [f"-{g}" for g in page.removed]
            assert page.cursor is None
    assert seen == ["a", "b", "c", "-gone"]
    assert info.value.status == 500 and info.value.request_id == "rid-1"


def test_messages_by_batch_each_with_its_own_error() -> None:
    def batch(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["requests"]
        answers = []
        for item in items:
            mid = urlsplit(item["url"]).path.rsplit("/", 1)[-1]
            select = parse_qs(urlsplit(item["url"]).query)["$select"]
            assert select == ["id,internetMessageId,subject,from,receivedDateTime"]
            status = {"bad": 500, "gone": 404}.get(mid, 200)
            body = (
                {"id": mid, "subject": f"s-{mid}"}
                if status == 200
                else {"error": {"code": "ErrorItemNotFound" if status == 404 else "X"}}
            )
            answers.append({"id": item["id"], "status": status, "body": body})
        return httpx.Response(200, json={"responses": answers})

    mail, rec, _, _, _ = make_mail(batch, budget_s=0.0)
    got = mail.get_messages_many(["ok", "bad", "gone", "ok"], view="summary")
    assert list(got) == ["ok", "bad", "gone"]
    assert got["ok"] == MailMessage(id="ok", subject="s-ok")
    assert isinstance(got["bad"], GraphUnavailable) and got["bad"].status == 500
    assert isinstance(got["gone"], GraphNotFound)
    assert len(rec.requests) == 1


def test_a_shorter_retry_budget_holds_for_the_calling_thread_only() -> None:
    mail, rec, _, sleeps, _ = make_mail(
        lambda r: graph_error(500, "ErrorInternalServerError"), budget_s=60.0
    )
    with mail.retry_budget(1.0), pytest.raises(GraphUnavailable):
        mail.get_message("m")
    short = len(rec.requests)
    assert sum(sleeps) <= 1.0 and short <= 3

    other: list[int] = []

    def elsewhere() -> None:
        before = len(rec.requests)
        with pytest.raises(GraphUnavailable):
            mail.get_message("m")
        other.append(len(rec.requests) - before)

    with mail.retry_budget(1.0):
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
    assert other[0] > short, "another thread keeps the client's own budget"
    with mail.retry_budget(500.0):
        assert mail._http.policy.budget_s == 60.0, "never longer than the client's budget"
    assert mail._http.policy.budget_s == 60.0


def test_the_first_failure_of_a_retried_request_is_one_warning_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers = iter([graph_error(500, "ErrorInternalServerError")] * 4)
    mail, rec, _, _, _ = make_mail(
        lambda r: next(answers, httpx.Response(200, json={"id": "m"})), budget_s=120.0
    )
    caplog.set_level(logging.DEBUG, logger="mailpipe.graph")
    assert mail.get_message("m").id == "m"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and len(rec.requests) == 5, "one line for the whole series"
    line = warnings[0].getMessage()
    assert "get message" in line and f"{USER}/messages/m" in line
    assert "500" in line and "ErrorInternalServerError" in line and "rid-1" in line
    assert "$select" not in line, "the path only, never the query"
    retries = [r for r in caplog.records if r.getMessage().startswith("graph retry")]
    assert len(retries) == 4 and all(r.levelno == logging.DEBUG for r in retries)


def test_throttling_is_not_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([graph_error(429, "ApplicationThrottled", {"Retry-After": "1"})])
    mail, _, _, _, _ = make_mail(lambda r: next(answers, httpx.Response(200, json={"id": "m"})))
    caplog.set_level(logging.DEBUG, logger="mailpipe.graph")
    mail.get_message("m")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("graph request failed" in r.getMessage() for r in caplog.records)
