"""Auto-replies and out-of-office notices (RFC 3834 and the vendors' own markers).

``X-Auto-Response-Suppress`` alone is *not* an auto-reply: Outlook and Exchange put it on
meeting requests, read receipts and many ordinary notifications, and ticketing systems set it
on every mail they send. It only asks us not to answer automatically, so on its own it makes a
request with ``suppress_autoreply`` set; together with an auto-reply subject it marks an
Exchange out-of-office notice.
"""

from __future__ import annotations

import re

from services.ticketer.domain.facts import MailFacts

_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?[ -]?(?:reply|response|antwort|answer)|auto:|autosvar|autoreply|"
    r"out of (?:the )?office|abwesenheitsnotiz|abwesend|réponse automatique|"
    r"absence|respuesta automática|risposta automatica|fuera de la oficina|"
    r"automatisch antwoord|afwezig|vacation|on vacation|away from (?:my|the) office|"
    r"自動応答|不在)",
    re.IGNORECASE,
)
_OOF_SUFFIX = re.compile(r"\bis out of (?:the )?office\b|\bwill be out of the office\b", re.I)
_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_VENDOR_HEADERS = (
    "x-autoreply",
    "x-autorespond",
    "x-autoresponder",
    "x-autoreply-from",
    "x-mail-autoreply",
)
_SUPPRESS_VALUES = re.compile(r"\b(?:all|oof|autoreply)\b", re.IGNORECASE)


def auto_reply_reason(facts: MailFacts) -> str | None:
    """The rule that makes this mail an automatic reply, or ``None``."""
    auto_submitted = (facts.header("auto-submitted") or "").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"auto_submitted:{auto_submitted.split(';')[0].strip()}"
    for name in _VENDOR_HEADERS:
        if facts.header(name) is not None:
            return name.replace("-", "_")
    for name in ("precedence", "x-precedence"):
        precedence = (facts.header(name) or "").strip().lower()
        if precedence in _PRECEDENCE:
            return f"{name.replace('-', '_')}:{precedence}"
    return _microsoft_oof(facts)


def _microsoft_oof(facts: MailFacts) -> str | None:
    """Exchange/Outlook out-of-office: an auto-reply subject plus a Microsoft marker."""
    subject = facts.subject
    if not (_AUTO_REPLY_SUBJECT.search(subject) or _OOF_SUFFIX.search(subject)):
        return None
    if facts.header("x-ms-exchange-inbox-rules-loop") is not None:
        return "ms_oof:inbox_rules_loop"
    suppress = facts.header("x-auto-response-suppress")
    if suppress and _SUPPRESS_VALUES.search(suppress):
        return "ms_oof:auto_response_suppress"
    # Set on mail that an Exchange mailbox rule generated: an OOF, but also a forward.
    if facts.header("x-ms-exchange-generated-message-source") is not None:
        return "ms_oof:generated_message_source"
    # Without any header marker, a null sender (Lotus Notes, old Exchange) still tells.
    if facts.return_path == "":
        return "oof_subject:null_sender"
    return None


def suppresses_autoreply(facts: MailFacts) -> bool:
    """The sender asked not to be answered automatically, or the mail came through a list."""
    suppress = facts.header("x-auto-response-suppress")
    if suppress and _SUPPRESS_VALUES.search(suppress):
        return True
    return facts.header("list-id") is not None or facts.header("list-unsubscribe") is not None
