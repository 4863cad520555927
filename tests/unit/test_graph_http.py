"""The request core on httpx.MockTransport: headers, retries, Retry-After, 401, secrets."""

from __future__ import annotations

import httpx
import pytest

from libs.common.graph import GraphNotFound, GraphThrottled, GraphUnavailable
from libs.common.graph.errors import GraphPermanentError
from libs.common.mail import MailNotFound

from .graph_helpers import SECRET, graph_error, make_mail


def ok_user(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": "u1", "mail": "help@contoso.test"})


def test_every_request_asks_for_immutable_ids_and_carries_the_token() -> None:
    mail, rec, _, _, _ = make_mail(ok_user)
    mail.get_user("help@contoso.test")
    mail.get_folder("inbox")
    assert len(rec.requests) == 2
    for req in rec.requests:
        assert 'IdType="ImmutableId"' in req.headers["Prefer"]
        assert req.headers["Authorization"] == "Bearer token-0"


def test_retry_after_is_honoured() -> None:
    answers = iter(
        [
            graph_error(429, "ApplicationThrottled", {"Retry-After": "7"}),
            graph_error(503, "ServiceUnavailable", {"Retry-After": "2"}),
        ]
    )
    mail, rec, _, sleeps, events = make_mail(lambda r: next(answers, ok_user(r)))
    assert mail.get_user("x@contoso.test").id == "u1"
    assert sleeps == [7.0, 2.0]
    assert [(e.status, e.retry_after_s) for e in events] == [(429, 7.0), (503, 2.0)]
    assert len(rec.requests) == 3


def test_backoff_without_retry_after_grows() -> None:
    answers = iter([graph_error(504, "GatewayTimeout")] * 4)
    mail, _, _, sleeps, _ = make_mail(lambda r: next(answers, ok_user(r)))
    mail.get_user("x@contoso.test")
    assert len(sleeps) == 4
    for attempt, wait in enumerate(sleeps, start=1):
        ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= wait <= ceiling


def test_timeouts_and_connection_errors_are_retried() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        if calls["n"] == 2:
            raise httpx.ReadTimeout("slow", request=request)
        return ok_user(request)

    mail, _, _, sleeps, events = make_mail(flaky)
    assert mail.get_user("x@contoso.test").id == "u1"
    assert [e.code for e in events] == ["connection_error", "timeout"]
    assert len(sleeps) == 2


def test_retrying_stops_at_the_budget_with_the_retryable_error() -> None:
    mail, rec, _, sleeps, _ = make_mail(
        lambda r: graph_error(429, "ApplicationThrottled", {"Retry-After": "10"}), budget_s=35
    )
    with pytest.raises(GraphThrottled) as info:
        mail.get_user("x@contoso.test")
    assert info.value.retryable and info.value.retry_after_s == 10
    assert sleeps == [10.0, 10.0, 10.0]
    assert len(rec.requests) == 4


def test_permanent_errors_are_not_retried() -> None:
    mail, rec, _, sleeps, _ = make_mail(lambda r: graph_error(404, "ErrorItemNotFound"))
    with pytest.raises(GraphNotFound):
        mail.get_message("gone")
    assert len(rec.requests) == 1 and sleeps == []


def test_401_drops_the_token_and_retries_once() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer token-0":
            return graph_error(401, "InvalidAuthenticationToken")
        return ok_user(request)

    mail, rec, tokens, _, _ = make_mail(handler)
    assert mail.get_user("x@contoso.test").id == "u1"
    assert tokens.invalidated == 1
    assert [r.headers["Authorization"] for r in rec.requests] == [
        "Bearer token-0",
        "Bearer token-1",
    ]


def test_a_second_401_is_a_permanent_error() -> None:
    mail, rec, tokens, _, _ = make_mail(lambda r: graph_error(401, "InvalidAuthenticationToken"))
    with pytest.raises(GraphPermanentError) as info:
        mail.get_user("x@contoso.test")
    assert info.value.status == 401 and tokens.invalidated == 1 and len(rec.requests) == 2


def test_send_is_not_retried_after_a_5xx_but_is_after_a_429() -> None:
    answers = iter([graph_error(429, "ApplicationThrottled", {"Retry-After": "1"})])
    mail, rec, _, _, _ = make_mail(lambda r: next(answers, httpx.Response(202)))
    mail.send_mime(b"Subject: hi\r\n\r\nbody")
    assert len(rec.requests) == 2

    mail, rec, _, _, _ = make_mail(lambda r: graph_error(504, "GatewayTimeout"))
    with pytest.raises(GraphUnavailable):
        mail.send_mime(b"Subject: hi\r\n\r\nbody")
    assert len(rec.requests) == 1  # Graph may have sent it: the caller decides


def test_secrets_and_tokens_are_absent_from_repr_and_errors() -> None:
    mail, _, _, _, _ = make_mail(lambda r: graph_error(403, "ErrorAccessDenied"))
    with pytest.raises(GraphPermanentError) as info:
        mail.get_user("x@contoso.test")
    texts = [repr(mail), repr(mail._http), str(info.value), repr(info.value), repr(mail._http.gate)]
    for text in texts:
        assert SECRET not in text and "token-0" not in text and "Bearer" not in text
    assert "application access policy" in str(info.value)


@pytest.mark.parametrize(
    "code", ["Request_ResourceNotFound", "ResourceNotFound", "ErrorInvalidUser"]
)
def test_a_user_lookup_404_is_not_found_whatever_the_code(code: str) -> None:
    # "Not in the tenant" is MailNotFound for the port, whichever 404 Graph answers with.
    mail, _, _, _, _ = make_mail(lambda r: graph_error(404, code))
    with pytest.raises(MailNotFound) as info:
        mail.get_user("x@contoso.test")
    assert isinstance(info.value, GraphNotFound)
    assert info.value.status == 404 and info.value.code == code and info.value.request_id


def test_a_refused_user_lookup_stays_a_permanent_error() -> None:
    mail, _, _, _, _ = make_mail(lambda r: graph_error(403, "Authorization_RequestDenied"))
    with pytest.raises(GraphPermanentError) as info:
        mail.get_user("x@contoso.test")
    assert not isinstance(info.value, MailNotFound)
