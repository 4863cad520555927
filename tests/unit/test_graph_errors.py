"""Graph error bodies map to typed errors: retryable vs permanent, each with its hint."""

from __future__ import annotations

import pytest

from libs.common import mail
from libs.common.errors import MailpipeError, PermanentError, RetryableError
from libs.common.graph.errors import (
    DeltaExpired,
    GraphError,
    GraphNotFound,
    GraphPermanentError,
    GraphSendAsDenied,
    GraphThrottled,
    GraphUnavailable,
    TooLarge,
    error_from_response,
    parse_error_body,
)


def body(code: str) -> dict[str, object]:
    return {
        "error": {
            "code": code,
            "message": "The details",
            "innerError": {"date": "2026-11-26T10:00:00", "request-id": "req-42"},
        }
    }


@pytest.mark.parametrize(
    ("status", "code", "cls", "hint_word"),
    [
        (404, "ErrorItemNotFound", GraphNotFound, "already"),
        (403, "ErrorAccessDenied", GraphPermanentError, "application access policy"),
        (403, "ErrorSendAsDenied", GraphSendAsDenied, "Send As"),
        (404, "MailboxNotEnabledForRESTAPI", GraphPermanentError, "licence"),
        (400, "ErrorInvalidRecipients", GraphPermanentError, "recipient"),
        (404, "ErrorInvalidUser", GraphPermanentError, "[[mailboxes]]"),
        (413, "RequestEntityTooLarge", TooLarge, "upload session"),
        (410, "SyncStateNotFound", DeltaExpired, "resync"),
        (401, "InvalidAuthenticationToken", GraphPermanentError, "tenant_id"),
    ],
)
def test_permanent_codes_map_to_typed_errors_with_hints(
    status: int, code: str, cls: type[GraphError], hint_word: str
) -> None:
    err = error_from_response(status, body(code))
    assert type(err) is cls
    assert isinstance(err, PermanentError) and isinstance(err, MailpipeError)
    assert not err.retryable
    assert err.status == status and err.code == code and err.request_id == "req-42"
    assert err.hint and hint_word in err.hint
    assert code in str(err) and "The details" in str(err)


@pytest.mark.parametrize(
    ("status", "code", "retry_after_s", "neutral"),
    [
        (404, "ErrorItemNotFound", None, mail.MailNotFound),
        (403, "ErrorSendAsDenied", None, mail.SendAsDenied),
        (403, "ErrorAccessDenied", None, mail.MailPermanentError),
        (413, "RequestEntityTooLarge", None, mail.TooLarge),
        (410, "SyncStateNotFound", None, mail.CursorExpired),
        (429, "ApplicationThrottled", 3.0, mail.Throttled),
        (503, "", None, mail.MailUnavailable),
    ],
)
def test_each_graph_answer_is_the_mail_ports_neutral_error(
    status: int, code: str, retry_after_s: float | None, neutral: type[mail.MailError]
) -> None:
    # The services catch only the neutral errors; Graph's codes are read here and nowhere else.
    err = error_from_response(status, body(code), retry_after_s=retry_after_s)
    assert isinstance(err, neutral) and isinstance(err, mail.MailError)
    assert err.retryable is issubclass(neutral, mail.MailRetryableError)


def test_not_found_is_its_own_type_but_mailbox_errors_are_not() -> None:
    assert isinstance(error_from_response(404, body("ErrorItemNotFound")), GraphNotFound)
    assert not isinstance(error_from_response(404, body("ErrorInvalidUser")), GraphNotFound)
    assert not isinstance(
        error_from_response(404, body("MailboxNotEnabledForRESTAPI")), GraphNotFound
    )


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (429, GraphThrottled),
        (503, GraphUnavailable),
        (504, GraphUnavailable),
        (500, GraphUnavailable),
    ],
)
def test_throttling_and_outages_are_retryable(status: int, cls: type[GraphError]) -> None:
    err = error_from_response(status, body("ApplicationThrottled"), retry_after_s=7)
    assert isinstance(err, cls if status != 503 else GraphThrottled)
    assert isinstance(err, RetryableError) and err.retryable
    assert err.retry_after_s == 7


def test_503_without_retry_after_is_unavailable() -> None:
    assert type(error_from_response(503, b"")) is GraphUnavailable


def test_unparseable_bodies_still_give_a_typed_error() -> None:
    err = error_from_response(400, b"<html>bad gateway</html>", request_id="hdr-id")
    assert isinstance(err, GraphPermanentError)
    assert err.code == "http_400" and err.request_id == "hdr-id"
    assert parse_error_body(b"not json") == ("", "", None)
    assert parse_error_body({"error": "flat"}) == ("", "", None)


@pytest.mark.parametrize(
    ("status", "code", "about_mailbox"),
    [
        (403, "ErrorAccessDenied", True),
        (401, "InvalidAuthenticationToken", True),
        (404, "MailboxNotEnabledForRESTAPI", True),
        (507, "ErrorQuotaExceeded", True),
        (404, "ErrorItemNotFound", False),
        (413, "RequestEntityTooLarge", False),
        (400, "ErrorInvalidIdMalformed", False),
        (500, "InternalServerError", False),
    ],
)
def test_the_adapter_says_which_answers_speak_of_the_mailbox(
    status: int, code: str, about_mailbox: bool
) -> None:
    # The fetcher blames one mail only for errors that are not about the mailbox or the app.
    assert error_from_response(status, body(code)).about_mailbox is about_mailbox
