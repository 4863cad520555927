"""Auto-replies and out-of-office notices (RFC 3834 and the vendors' own markers).

``X-Auto-Response-Suppress`` alone is *not* an auto-reply: Outlook and Exchange put it on
meeting requests, read receipts and many ordinary notifications, and ticketing systems set it
on every mail they send. It only asks us not to answer automatically, so on its own it makes a
request with ``suppress_autoreply`` set; together with an auto-reply subject it marks an
Exchange out-of-office notice. Without any header, the subject alone may still tell
(:mod:`services.ticketer.domain.oof`).

RFC 3834 section 2: never answer automatically a mail whose reverse path is null
(``Return-Path: <>``): such a mail is a notice by definition, and an answer can only go astray.
"""

from __future__ import annotations

import re

from services.ticketer.domain.facts import MailFacts, header_token, message_id_domain
from services.ticketer.domain.oof import looks_like_oof, oof_subject_reason

_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?[ -]?(?:reply|response|antwort|answer)|auto:|autosvar|autoreply|"
    r"out of (?:the )?office|abwesenheitsnotiz|abwesend|réponse automatique|"
    r"absence|respuesta automática|risposta automatica|fuera de la oficina|"
    r"automatisch antwoord|afwezig|vacation|on vacation|away from (?:my|the) office|"
    r"自動応答|不在)",
    re.IGNORECASE,
)
_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_VENDOR_HEADERS = (
    "x-autoreply",
    "x-autorespond",
    "x-autoresponder",
    "x-autoreply-from",
    "x-mail-autoreply",
)
#: A vendor header present with one of these values says the mail is *not* automatic.
_VENDOR_NO = {"no", "false", "0", "off", "none"}
_SUPPRESS_VALUES = re.compile(r"\b(?:all|oof|autoreply)\b", re.IGNORECASE)
#: Exchange's marks of mail a mailbox rule or agent generated (an OOF, but also a forward).
_MS_GENERATED = (
    ("x-ms-exchange-inbox-rules-loop", "ms_inbox_rules_loop"),
    ("x-ms-exchange-generated-message-source", "ms_generated_message_source"),
)


def auto_reply_reason(facts: MailFacts, *, own_message_id_domain: str = "") -> str | None:
    """The rule that makes this mail an automatic reply, or ``None``.

    ``own_message_id_domain``: the domain of our Message-IDs; a mail answering one of them with
    an absence word opening its subject is an out-of-office notice.
    """
    # Values are read as RFC 5322 writes them: "auto-replied (vacation)", "no (manually
    # sent)", "Auto-Generated; owner-email=…", "bulk (list)" — the comment and the
    # parameters say nothing about the kind.
    auto_submitted = header_token(facts.header("auto-submitted"))
    if auto_submitted and auto_submitted != "no":
        return f"auto_submitted:{auto_submitted}"
    for name in _VENDOR_HEADERS:
        value = facts.header(name)
        if value is not None and header_token(value) not in _VENDOR_NO:
            return name.replace("-", "_")
    for name in ("precedence", "x-precedence"):
        precedence = header_token(facts.header(name))
        if precedence in _PRECEDENCE:
            return f"{name.replace('-', '_')}:{precedence}"
    return _microsoft_oof(facts) or oof_subject_reason(
        facts.subject, answers_us=_answers_us(facts, own_message_id_domain)
    )


def _answers_us(facts: MailFacts, own_message_id_domain: str) -> bool:
    domain = own_message_id_domain.strip().lower()
    ids = (*facts.in_reply_to, *facts.references)
    return bool(domain) and any(message_id_domain(i) == domain for i in ids)


def _microsoft_oof(facts: MailFacts) -> str | None:
    """Exchange/Outlook out-of-office: an auto-reply subject plus a Microsoft marker."""
    subject = facts.subject
    if not (_AUTO_REPLY_SUBJECT.search(subject) or looks_like_oof(subject)):
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
    """No automatic answer: the null sender, a sender who asked for none, a mailing list, or
    mail an Exchange mailbox rule generated."""
    return autoreply_suppression(facts) is not None


def autoreply_suppression(facts: MailFacts) -> str | None:
    """Why this mail must not be answered automatically, or ``None``."""
    if facts.return_path == "":
        return "null_sender"
    suppress = facts.header("x-auto-response-suppress")
    if suppress and _SUPPRESS_VALUES.search(suppress):
        return "x_auto_response_suppress"
    if facts.header("list-id") is not None or facts.header("list-unsubscribe") is not None:
        return "list"
    # A mailbox rule made this mail: it may be a real request (a forward), but an automatic
    # answer to a rule's output is how two mailboxes start a loop.
    for name, reason in _MS_GENERATED:
        if facts.header(name) is not None:
            return reason
    return None
