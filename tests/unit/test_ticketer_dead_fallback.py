"""A dead-letter hook that fails on what the mail says falls back to listing the mail by its
Graph id with the raw reason: a deterministic failure never keeps a mail circling."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.broker.policy import Action, Outcome
from libs.common.errors import RetryableError
from services.ticketer.store.models import WriteResult
from tests.unit.test_ticketer_handler import DELIVERY, mail, make_rig

OUTCOME = Outcome(Action.DEAD, reason="store_error", error="value refused", hint="look at it")


def test_a_quarantine_that_fails_on_the_mails_details_is_listed_by_message_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = make_rig()
    real = rig.store.quarantine_email
    calls: list[dict[str, Any]] = []

    def refuses_details(mailbox: str, message_id: str, reason: str, **kw: Any) -> WriteResult:
        calls.append(kw)
        if kw.get("subject"):
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        return real(mailbox, message_id, reason, **kw)

    monkeypatch.setattr(rig.store, "quarantine_email", refuses_details)
    rig.ticketer.on_dead(mail(1, subject="odd\ufffdsubject"), DELIVERY, OUTCOME)
    assert rig.store.quarantined == [("g1", "store_error")]
    assert [(p.outcome, p.reason) for p in rig.outbox.processed_] == [
        ("quarantined", "store_error")
    ]
    fallback = calls[-1]
    assert fallback["subject"] == "" and fallback["internet_message_id"] is None
    assert "value refused" in fallback["detail"] and "NUL" in fallback["detail"]


def test_when_even_the_bare_listing_fails_the_hook_fails_and_is_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = make_rig()

    def down(*args: Any, **kw: Any) -> WriteResult:
        raise RetryableError("database down", code="store_unavailable")

    monkeypatch.setattr(rig.store, "quarantine_email", down)
    with pytest.raises(RetryableError):
        rig.ticketer.on_dead(mail(1), DELIVERY, OUTCOME)
    assert rig.outbox.processed_ == []


def test_mail_the_fetcher_quarantined_is_listed_once_and_nothing_is_published() -> None:
    from libs.common.contracts import QuarantinedEmail

    rig = make_rig()
    event = QuarantinedEmail.model_validate(
        {
            "mailbox": "help@contoso.com",
            "message_id": "g7",
            "provider": "microsoft",
            "internet_message_id": "<" + "x" * 1200 + "@a.example>",
            "subject": "unreadable",
            "reason": "unreadable:http_500",
            "detail": "Graph answers 500 for this mail only",
            "failures": 3,
            "quarantined_at": "2026-11-02T12:00:00Z",
        }
    )
    rig.ticketer.handle_quarantined(event, DELIVERY)
    rig.ticketer.handle_quarantined(event, DELIVERY)  # a redelivery changes nothing
    assert rig.store.quarantined == [("g7", "unreadable:http_500")]
    assert rig.outbox.processed_ == []  # the fetcher has moved it already
