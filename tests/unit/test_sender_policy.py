"""Sender send-as policy and the job checks beyond the contract."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from libs.common.contracts import OutboundEmail
from libs.common.errors import PermanentError
from libs.common.graph._send import SEND_LIMITS
from libs.common.settings import MailboxConfig
from services.sender.domain.policy import (
    SEND_AS_DELEGATION_HINT,
    Rejection,
    SendDecision,
    decide_sender,
    fallback_decision,
    send_as_denied_message,
    send_as_hint,
    validate_job,
)

DESK = "help@contoso.com"


def validate(job: OutboundEmail, box: MailboxConfig | None, **kw: Any) -> Rejection | None:
    """The checks with the Graph adapter's send limits."""
    return validate_job(job, box, limits_of=lambda _: SEND_LIMITS, **kw)


def mailbox(**overrides: Any) -> MailboxConfig:
    data: dict[str, Any] = {
        "address": DESK,
        "tenant_id": "tenant",
        "client_id": "client",
        "client_secret": "s3cr3t-value",
        "send_as": ("alice@contoso.com", "Bob@Contoso.com"),
    }
    data.update(overrides)
    return MailboxConfig(**data)


def job(**overrides: Any) -> OutboundEmail:
    data: dict[str, Any] = {
        "job_id": "job-1",
        "mailbox": DESK,
        "to": [{"address": "customer@example.com", "name": "Ann"}],
        "subject": "Printer",
        "text": "Hello",
    }
    data.update(overrides)
    return OutboundEmail.model_validate(data)


def test_empty_from_sends_as_the_mailbox() -> None:
    decision = decide_sender(job(), mailbox())
    assert decision == SendDecision(DESK, DESK, "", "mailbox")
    assert decision.graph_from is None


def test_from_equal_to_the_mailbox_is_the_mailbox() -> None:
    decision = decide_sender(job(from_address="HELP@contoso.com"), mailbox())
    assert isinstance(decision, SendDecision)
    assert decision.mode == "mailbox"
    assert decision.from_address == DESK


@pytest.mark.parametrize("asked", ["alice@contoso.com", "ALICE@Contoso.COM", "bob@contoso.com"])
def test_allowed_agent_any_case_sends_as_the_agent(asked: str) -> None:
    decision = decide_sender(job(from_address=asked, from_name="Agent"), mailbox())
    assert isinstance(decision, SendDecision)
    assert decision.mode == "send_as"
    assert decision.mailbox == DESK
    assert decision.from_address == asked
    assert decision.from_name == "Agent"
    assert decision.agent == asked
    assert decision.graph_from == asked
    assert decision.reply_to == ()


def test_agent_not_in_the_list_is_rejected_with_how_to_allow() -> None:
    decision = decide_sender(job(from_address="mallory@contoso.com"), mailbox())
    assert isinstance(decision, Rejection)
    assert decision.code == "send_as_not_allowed"
    assert "send_as" in decision.message
    assert "mallory@contoso.com" in decision.message
    assert send_as_hint("mallory@contoso.com", DESK) in decision.message
    err = decision.error()
    assert isinstance(err, PermanentError)
    assert err.code == "send_as_not_allowed"
    assert err.hint


def test_empty_allowlist_rejects_every_agent() -> None:
    decision = decide_sender(job(from_address="alice@contoso.com"), mailbox(send_as=()))
    assert isinstance(decision, Rejection)
    assert decision.code == "send_as_not_allowed"


def test_fallback_sends_from_the_mailbox_with_the_agents_name_and_reply_to() -> None:
    box = mailbox(send_as_fallback="mailbox")
    decision = decide_sender(job(from_address="alice@contoso.com", from_name="Alice S"), box)
    assert isinstance(decision, SendDecision)
    fallback = fallback_decision(decision, box, desk_name="Contoso Help")
    assert fallback is not None
    assert fallback.mode == "fallback"
    assert fallback.from_address == DESK
    assert fallback.graph_from is None
    assert fallback.from_name == "Alice S via Contoso Help"
    assert [(a.address, a.name) for a in fallback.reply_to] == [("alice@contoso.com", "Alice S")]
    assert fallback.detail is not None
    assert "fallback" in fallback.detail
    assert "alice@contoso.com" in fallback.detail


def test_fallback_without_a_name_uses_the_address_and_the_mailbox() -> None:
    box = mailbox(send_as_fallback="mailbox")
    decision = decide_sender(job(from_address="alice@contoso.com"), box)
    assert isinstance(decision, SendDecision)
    fallback = fallback_decision(decision, box)
    assert fallback is not None
    assert fallback.from_name == f"alice@contoso.com via {DESK}"


def test_no_fallback_unless_configured_or_when_not_send_as() -> None:
    box = mailbox()
    decision = decide_sender(job(from_address="alice@contoso.com"), box)
    assert isinstance(decision, SendDecision)
    assert fallback_decision(decision, box) is None
    plain = decide_sender(job(), mailbox(send_as_fallback="mailbox"))
    assert isinstance(plain, SendDecision)
    assert fallback_decision(plain, mailbox(send_as_fallback="mailbox")) is None


def test_denied_message_names_the_delegation_step_from_the_one_constant() -> None:
    text = send_as_denied_message("alice@contoso.com", DESK)
    assert "ErrorSendAsDenied" in text
    assert "Delegation > Send as" in SEND_AS_DELEGATION_HINT
    assert "Add-RecipientPermission -Identity alice@contoso.com" in text
    assert f"-Trustee {DESK}" in text
    assert send_as_hint("alice@contoso.com", DESK) in text


def test_secrets_never_reach_decisions_or_messages() -> None:
    box = mailbox(send_as_fallback="mailbox")
    rejection = decide_sender(job(from_address="x@contoso.com"), box)
    assert isinstance(rejection, Rejection)
    texts = [repr(rejection), str(rejection.error()), send_as_denied_message("a@b.com", DESK)]
    assert all("s3cr3t-value" not in t for t in texts)


def test_valid_job_passes() -> None:
    assert validate(job(), mailbox()) is None


def test_unknown_mailbox() -> None:
    rejection = validate(job(), None)
    assert rejection is not None
    assert rejection.code == "unknown_mailbox"
    other = validate(job(mailbox="other@contoso.com"), mailbox())
    assert other is not None
    assert other.code == "unknown_mailbox"


def test_mailbox_case_does_not_matter() -> None:
    assert validate(job(mailbox="Help@Contoso.com"), mailbox()) is None


def test_only_the_mailbox_itself_as_recipient_is_rejected() -> None:
    lone = job(to=[{"address": "HELP@contoso.com"}], cc=[{"address": DESK}])
    rejection = validate(lone, mailbox())
    assert rejection is not None
    assert rejection.code == "no_recipients"


def test_non_ascii_local_part_is_rejected_but_idn_domain_passes() -> None:
    bad = validate(job(to=[{"address": "jörg@example.com"}]), mailbox())
    assert bad is not None
    assert bad.code == "address_not_supported"
    assert validate(job(to=[{"address": "joerg@bücher.example"}]), mailbox()) is None


def test_duplicate_content_ids_are_rejected() -> None:
    png = base64.b64encode(b"png").decode()
    atts = [
        {"name": "a.png", "content_base64": png, "is_inline": True, "content_id": "logo"},
        {"name": "b.png", "content_base64": png, "is_inline": True, "content_id": "<LOGO>"},
    ]
    rejection = validate(job(html="<img src=cid:logo>", attachments=atts), mailbox())
    assert rejection is not None
    assert rejection.code == "duplicate_content_id"


def test_message_over_the_mailbox_limit_is_rejected() -> None:
    blob = {"sha256": "0" * 64, "size": 40 * 1024 * 1024}
    big = job(attachments=[{"name": "big.iso", "blob": blob}])
    assert validate(big, mailbox()) is None
    rejection = validate(big, mailbox(), max_bytes=35 * 1024 * 1024)
    assert rejection is not None
    assert rejection.code == "message_too_large"
    assert "MaxSendSize" in rejection.message


def test_body_that_no_graph_request_can_carry_is_rejected() -> None:
    huge = "é" * 900_000  # 1.8 MB of UTF-8 in each of text and html
    rejection = validate(job(text=huge, html=huge), mailbox())
    assert rejection is not None
    assert rejection.code == "body_too_large"
