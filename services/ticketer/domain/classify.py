"""``classify``: what an inbound mail is, decided before any record is made.

Order of the rules (the first that matches wins):
1. loop — the mail is our own coming back (sender is the mailbox, our X-Mailpipe headers,
   its own Message-ID in our domain, X-Loop naming the mailbox);
2. ignored — the sender matches ``ignore_senders``;
3. reports — a ``multipart/report`` delivery-status part (bounce or delivery_success), an
   ARF feedback report, Amazon SES event notifications;
4. bounce — an NDR without a report, recognised by its subject or MAILER-DAEMON/postmaster
   sender;
5. auto_reply — RFC 3834 ``Auto-Submitted``, vendor headers, ``Precedence``, out-of-office;
6. bounce — bounce wording in the body of a null-sender mail or one returning a message;
7. request.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.ticketer.domain import ndr
from services.ticketer.domain.autoreply import auto_reply_reason, suppresses_autoreply
from services.ticketer.domain.facts import MailFacts
from services.ticketer.domain.senders import ignore_reason, loop_reason
from services.ticketer.domain.verdict import Classification, DeliveryFailure

_SUCCESS_ACTIONS = {"delivered", "relayed", "expanded", "deliverable"}
_FEEDBACK_HINT_HEADERS = ("x-apple-unsubscribe",)
# Microsoft's JMRP complaints are plain multipart/mixed with this header in the returned copy.
_JMRP_HEADER = "x-hmxmroriginalrecipient"


def classify(
    facts: MailFacts,
    *,
    mailbox: str,
    own_message_id_domain: str,
    ignore_senders: Sequence[str] = (),
) -> Classification:
    reason = loop_reason(facts, mailbox=mailbox, own_message_id_domain=own_message_id_domain)
    if reason:
        return Classification("loop", reason)
    reason = ignore_reason(facts, ignore_senders)
    if reason:
        return Classification("ignored", reason)
    verdict = _report(facts)
    if verdict is not None:
        return verdict
    reason = ndr.ndr_reason(facts)
    if reason:
        return _text_bounce(facts, reason)
    reason = auto_reply_reason(facts, own_message_id_domain=own_message_id_domain)
    if reason:
        return Classification("auto_reply", reason, suppress_autoreply=True)
    reason = ndr.weak_ndr_reason(facts)
    if reason:
        return _text_bounce(facts, reason)
    return Classification("request", "request", suppress_autoreply=suppresses_autoreply(facts))


def _report(facts: MailFacts) -> Classification | None:
    """Machine-readable reports: RFC 3464 DSNs, RFC 5965 ARF, SES events, JMRP, Apple."""
    if facts.delivery_status:
        return _dsn(facts)
    if facts.has_delivery_status or facts.report_type == "delivery-status":
        # A DSN whose status part is unreadable (or, from the contract, not downloaded).
        return _text_bounce(facts, "dsn_text")
    if facts.feedback_report is not None or facts.report_type == "feedback-report":
        kind = dict(facts.feedback_report or ()).get("feedback-type", "unknown").lower()
        return Classification("feedback", f"arf:{kind}", original_message_id=_original(facts))
    if any(name == _JMRP_HEADER for name, _ in facts.returned_headers):
        return Classification("feedback", "jmrp", original_message_id=_original(facts))
    if any(facts.header(name) is not None for name in _FEEDBACK_HINT_HEADERS):
        return Classification("feedback", "apple_unsubscribe")
    ses = ndr.ses_notification(facts)
    if ses == "Complaint":
        return Classification("feedback", "ses:complaint")
    if ses == "Delivery":
        return Classification("delivery_success", "ses:delivery")
    if ses == "Bounce":
        return _text_bounce(facts, "ses:bounce")
    return None


def _dsn(facts: MailFacts) -> Classification:
    statuses = facts.delivery_status
    if all(_succeeded(s.action, s.status) for s in statuses):
        action = statuses[0].action or "delivered"
        return Classification(
            "delivery_success", f"dsn_success:{action}", original_message_id=_original(facts)
        )
    failures = tuple(
        DeliveryFailure(
            recipient=s.final_recipient or s.original_recipient,
            status=s.status,
            diagnostic=s.diagnostic_code,
            action=s.action or "failed",
        )
        for s in statuses
        if not _succeeded(s.action, s.status)
    )
    if not any(f.status for f in failures):
        # Some MTAs leave Status empty and only explain in the notice text.
        text_status = ndr.failures_from_text(facts)[0].status
        failures = tuple(
            DeliveryFailure(f.recipient, text_status, f.diagnostic, f.action) for f in failures
        )
    first = next((f.status for f in failures if f.status), "")
    return Classification(
        "bounce",
        f"dsn:{first or 'unknown'}",
        failures=failures,
        original_message_id=_original(facts),
        hard=_hard(failures),
    )


def _text_bounce(facts: MailFacts, reason: str) -> Classification:
    failures = ndr.failures_from_text(facts)
    first = next((f.status for f in failures if f.status), "")
    return Classification(
        "bounce",
        f"{reason}:{first}" if first else reason,
        failures=failures,
        original_message_id=_original(facts),
        hard=_hard(failures),
    )


def _succeeded(action: str, status: str) -> bool:
    if action:
        return action in _SUCCESS_ACTIONS
    return status.startswith("2.")


def _hard(failures: tuple[DeliveryFailure, ...]) -> bool:
    """Permanent when any recipient failed permanently (5.x.x, or failed without a code)."""
    for failure in failures:
        if failure.status.startswith("5"):
            return True
        if not failure.status and failure.action == "failed":
            return True
    return False


def _original(facts: MailFacts) -> str | None:
    return facts.returned_message_id or ndr.returned_id_from_text(facts)
