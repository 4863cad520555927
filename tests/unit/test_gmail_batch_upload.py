"""The Gmail adapter's batches and uploads over a fake transport: 50 calls a batch at most
when the quota would allow more, the resumable upload's ``Range`` arithmetic, a lost last
chunk whose status cannot be asked, and Google's answers for an API not enabled, a user
without Gmail and 403 rateLimitExceeded."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from libs.common.gmail._batch import MAX_CALLS, Call, _chunks, run_batch
from libs.common.gmail._errors import error_from_response
from libs.common.gmail._http import GmailHttp
from libs.common.gmail._quota import UserQuota
from libs.common.gmail._upload import CHUNK, kept, upload
from libs.common.mail import MailAuthError, OutcomeUnknown, Throttled
from libs.common.mail.retry import RetryPolicy

API = "https://gmail.test"


class _Tokens:
    def token(self) -> str:
        return "ya29.unit"

    def invalidate(self) -> None:
        """Nothing cached to drop."""


def _http(handler: Callable[[httpx.Request], httpx.Response], budget_s: float = 0.0) -> GmailHttp:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return GmailHttp(
        API,
        "support@example.com",
        _Tokens(),
        UserQuota(1_000_000, 4),
        client=client,
        policy=RetryPolicy(base_s=0.0, budget_s=budget_s),
        sleep=lambda _: None,
    )


def _gets(n: int) -> list[Call]:
    return [Call("GET", f"/gmail/v1/users/me/messages/m{i}", "messages.get") for i in range(n)]


def test_chunks_stop_at_fifty_calls_when_the_quota_allows_more() -> None:
    calls = _gets(120)
    chunks = _chunks(list(range(120)), calls, units_per_s=100_000)
    assert [len(c) for c in chunks] == [MAX_CALLS, MAX_CALLS, 20] == [50, 50, 20]
    assert [n for c in chunks for n in c] == list(range(120))


def _batch_answer(request: httpx.Request) -> httpx.Response:
    """Each part answered 200 with the id of the message it asked for."""
    lines = request.content.decode().split("\r\n")
    ids = [line.split()[1].rsplit("/", 1)[1] for line in lines if line.startswith("GET ")]
    parts = [
        f"--b\r\nContent-Type: application/http\r\nContent-ID: <response-item-{n}>\r\n\r\n"
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{json.dumps({'id': i})}\r\n"
        for n, i in enumerate(ids)
    ]
    body = ("".join(parts) + "--b--\r\n").encode()
    return httpx.Response(
        200, content=body, headers={"Content-Type": "multipart/mixed; boundary=b"}
    )


def test_a_batch_of_120_calls_goes_as_three_requests_answered_in_order() -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sizes.append(request.content.count(b"Content-Type: application/http"))
        return _batch_answer(request)

    answers = run_batch(_http(handler), _gets(120))
    assert sizes == [50, 50, 20]
    assert [a.body["id"] for a in answers] == [f"m{i}" for i in range(120)]


@pytest.mark.parametrize(
    ("header", "held"),
    [("bytes=0-4194303", 4 * 1024 * 1024), ("", 0), ("bytes=0-", 0), ("junk", 0)],
)
def test_the_bytes_a_308_says_the_session_holds(header: str, held: int) -> None:
    headers = {"Range": header} if header else {}
    assert kept(httpx.Response(308, headers=headers)) == held


def test_a_lost_last_chunk_whose_status_cannot_be_asked_is_outcome_unknown() -> None:
    puts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, headers={"Location": f"{API}/upload?upload_id=u1"})
        puts.append(request.headers["Content-Range"])
        assert "authorization" not in request.headers  # the session URI is the credential
        return httpx.Response(500 if request.content else 503)

    mime = b"x" * (CHUNK + 10)
    with pytest.raises(OutcomeUnknown):
        upload(_http(handler), mime, {})
    # the first chunk failed and so did the status query: the message may be out, so it is
    # neither sent again nor called unsent
    assert puts == [f"bytes 0-{CHUNK - 1}/{len(mime)}", f"bytes */{len(mime)}"]


def _error(status: int, reason: str, message: str, what: str = "labels.list") -> object:
    body = {"error": {"code": status, "message": message, "errors": [{"reason": reason}]}}
    return error_from_response(status, json.dumps(body).encode(), what=what, user="u@x.test")


def test_an_api_not_enabled_names_the_api_and_the_project() -> None:
    text = "{} has not been used in project 4242 before or it is disabled. Enable it by visiting"
    gmail = _error(403, "accessNotConfigured", text.format("Gmail API"))
    admin = _error(
        403, "accessNotConfigured", text.format("Admin SDK API"), what="directory users.get"
    )
    assert isinstance(gmail, MailAuthError) and isinstance(admin, MailAuthError)
    assert gmail.about_mailbox and not gmail.retryable
    assert gmail.hint is not None and admin.hint is not None
    assert gmail.hint.startswith("Google Cloud console → APIs & Services → Library → Gmail API")
    assert "Admin SDK API → Enable, in project 4242" in admin.hint


def test_a_user_without_gmail_is_told_from_a_token_for_no_user() -> None:
    off = _error(400, "failedPrecondition", "Mail service not enabled")
    nobody = _error(400, "failedPrecondition", "Precondition check failed.")
    assert isinstance(off, MailAuthError) and isinstance(nobody, MailAuthError)
    assert off.hint is not None and "Gmail → Service status" in off.hint
    assert nobody.hint is not None and "acts for no user" in nobody.hint


def test_a_403_rate_limit_exceeded_is_throttling() -> None:
    err = _error(403, "rateLimitExceeded", "Rate Limit Exceeded")
    assert isinstance(err, Throttled) and err.retryable
