"""A send whose answer is lost is "maybe sent", never blindly repeated; ``find_sent`` asks
Sent Items for a Message-ID (httpx.MockTransport, no server)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from libs.common.graph import GraphOutcomeUnknown, GraphUnavailable

from .graph_helpers import graph_error, make_mail

MIME = b"Message-ID: <a1@mailpipe.contoso.test>\r\nSubject: hi\r\n\r\nbody"


def test_a_read_timeout_on_send_mail_is_outcome_unknown_and_not_repeated() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    mail, rec, _, _, _ = make_mail(timeout)
    with pytest.raises(GraphOutcomeUnknown) as info:
        mail.send_mime(MIME)
    assert len(rec.requests) == 1
    assert info.value.retryable and info.value.code == "timeout"
    assert "may have" in info.value.message


def test_a_5xx_on_send_mail_is_outcome_unknown_a_connect_error_is_retried() -> None:
    mail, rec, _, _, _ = make_mail(lambda r: graph_error(502, "BadGateway"))
    with pytest.raises(GraphOutcomeUnknown) as info:
        mail.send_mime(MIME)
    assert len(rec.requests) == 1 and info.value.status == 502

    calls = {"n": 0}

    def refused_once(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)  # never left: safe to repeat
        return httpx.Response(202)

    mail, rec, _, _, _ = make_mail(refused_once)
    mail.send_mime(MIME)
    assert len(rec.requests) == 2


def test_a_read_of_a_5xx_stays_a_plain_retryable_error() -> None:
    mail, _, _, _, _ = make_mail(lambda r: graph_error(503, "ServiceUnavailable"), budget_s=0)
    with pytest.raises(GraphUnavailable) as info:
        mail.get_user("x@contoso.test")
    assert not isinstance(info.value, GraphOutcomeUnknown)


def _draft_world(
    send_answer: httpx.Response | None,
) -> tuple[list[tuple[str, str]], Callable[[httpx.Request], httpx.Response]]:
    """A MockTransport handler: draft created, its send answered ``send_answer`` (or a
    timeout when None), DELETE recorded."""
    calls: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.method == "POST" and request.url.path.endswith("/messages"):
            return httpx.Response(201, json={"id": "d1", "internetMessageId": "<a1@x>"})
        if request.url.path.endswith("/send"):
            if send_answer is None:
                raise httpx.ReadTimeout("no answer", request=request)
            return send_answer
        return httpx.Response(204)

    return calls, handler


def test_a_draft_whose_send_answer_was_lost_is_kept() -> None:
    calls, handler = _draft_world(None)
    mail, _, _, _, _ = make_mail(handler)
    with pytest.raises(GraphOutcomeUnknown):
        mail.send_mime_draft(MIME)
    # Deleting it could delete the message on its way; no DELETE was sent.
    assert [m for m, _ in calls] == ["POST", "POST"]


def test_a_draft_whose_send_was_refused_is_deleted() -> None:
    calls, handler = _draft_world(graph_error(400, "ErrorInvalidRecipients"))
    mail, _, _, _, _ = make_mail(handler)
    with pytest.raises(Exception, match="ErrorInvalidRecipients"):
        mail.send_mime_draft(MIME)
    assert calls[-1][0] == "DELETE" and calls[-1][1].endswith("/messages/d1")


def test_find_sent_filters_sent_items_by_internet_message_id() -> None:
    answers = iter(
        [
            httpx.Response(200, json={"value": [{"id": "m1"}]}),
            httpx.Response(200, json={"value": []}),
        ]
    )
    mail, rec, _, _, _ = make_mail(lambda r: next(answers))
    assert mail.find_sent("<a1@mailpipe.contoso.test>") is True
    assert mail.find_sent("<it's@x>") is False
    first, second = rec.requests
    assert first.method == "GET"
    assert first.url.path.endswith("/users/help@contoso.test/mailFolders/sentitems/messages")
    assert first.url.params["$filter"] == "internetMessageId eq '<a1@mailpipe.contoso.test>'"
    assert first.url.params["$select"] == "id"
    assert second.url.params["$filter"] == "internetMessageId eq '<it''s@x>'"
