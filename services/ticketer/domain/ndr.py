"""Non-delivery reports without a proper ``message/delivery-status`` part.

Exchange, Lotus Notes, qmail, Exim, DragonFly, Yahoo and others often send plain-text (or
HTML) NDRs. These heuristics recognise them and recover what they can: recipients, the
RFC 3463 status, a diagnostic line, and the returned message's Message-ID.
"""

from __future__ import annotations

import json
import re

from libs.common.text.html import html_to_text
from services.ticketer.domain.facts import MailFacts, first_message_id
from services.ticketer.domain.report import find_status
from services.ticketer.domain.verdict import DeliveryFailure

_SUBJECT = re.compile(
    r"undeliver(?:able|ed)|delivery status notification|delivery (?:has )?fail|"
    r"mail delivery failed|returned mail|failure notice|delivery failure|failed delivery|"
    r"mail system error|delivery notification: delivery has failed|non[- ]?delivery|"
    r"could not be delivered|error sending your mail|returning (?:message )?to sender|"
    r"delayed mail|message .{0,60} delayed|delivery status notification: (?:error|warning)|"
    r"mail failure|mail delivery warning|nicht zustellbar|unzustellbar|non recapitabile|"
    r"no entregado|non remis|не доставлено|メールエラー|^loop alert\b",
    re.IGNORECASE,
)
_DAEMON = re.compile(
    r"^(?:mailer[-_.]?daemon|post_?master|mail\.?delivery\.?(?:system|subsystem)|mdaemon)\b",
    re.IGNORECASE,
)
_PHRASES = re.compile(
    r"could not be delivered|couldn't be delivered|delivery (?:has )?failed|"
    r"undeliverable|permanent(?:ly)? (?:error|fatal)|user unknown|no such user|"
    r"invalid (?:user|recipient)|mailbox (?:is )?(?:full|unavailable)|recipient rejected|"
    r"was not delivered|delivery to the following recipients? failed|"
    r"unable to deliver|returned to sender|message could not be sent",
    re.IGNORECASE,
)
# Where the copy of the returned message starts inside a text NDR.
_RETURNED_START = re.compile(
    r"^(?:-+ ?(?:original message|this is a copy|below this line|the header of the original|"
    r"headers? of (?:the )?(?:original|returned)).*|message headers follow.*|"
    r"original message (?:follows|headers).*|return-path:.*|received: from .*)$",
    re.IGNORECASE | re.MULTILINE,
)
_MSGID_LINE = re.compile(r"^\s*message-id\s*:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
# Tried only where a run of address characters starts: from inside a long run without an
# "@" each try would scan to its end, quadratic in the run.
_ADDRESS = re.compile(
    r"<?(?<![A-Za-z0-9._%+=/'!#$&*?^`{|}~-])"
    r"([A-Za-z0-9._%+=/'!#$&*?^`{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?"
)
_SMTP_CODE = re.compile(r"\b([45])\d\d\b[ -]")
_TEMPORARY = re.compile(
    r"\bdelay(?:ed)?\b|will (?:be )?retr(?:y|ied)|still (?:being )?retried|temporar|"
    r"not yet been delivered",
    re.IGNORECASE,
)
# SES events arrive as JSON, either bare or as the (escaped) "Message" string of an SNS envelope.
_SES_JSON = re.compile(r'\\?"notificationType\\?"\s*:\s*\\?"(Bounce|Complaint|Delivery)')


def ndr_reason(facts: MailFacts) -> str | None:
    """Why a mail without a delivery-status part looks like a non-delivery report."""
    if facts.header("x-ms-exchange-message-is-ndr") is not None:
        return "ndr:ms_is_ndr"  # Exchange's own mark on the notices it makes, in any language
    if _SUBJECT.search(facts.subject):
        return "ndr:subject"
    sender = facts.from_
    if sender is not None and _DAEMON.match(sender.address or sender.name):
        return "ndr:sender"
    return None


def weak_ndr_reason(facts: MailFacts) -> str | None:
    """Bounce wording in the body of a mail from the null sender (or naming failed recipients).

    A returned copy alone is no sign: people forward mail as an attachment too.
    """
    machine = facts.return_path == "" or facts.header("x-failed-recipients") is not None
    if machine and _PHRASES.search(notice_text(facts)):
        return "ndr:text"
    return None


def ses_notification(facts: MailFacts) -> str | None:
    """Amazon SES event JSON relayed by SNS: ``Bounce``, ``Complaint`` or ``Delivery``."""
    text = facts.text or ""
    # The pattern starts with an optional backslash, so the engine tries it at every
    # position of the body; its literal is looked for first, the same answer far faster.
    if "notificationType" not in text:
        return None
    match = _SES_JSON.search(text)
    return match.group(1) if match else None


def notice_text(facts: MailFacts) -> str:
    """The human-readable notice: the body up to where the returned message starts."""
    text = facts.text or _html_text(facts.html)
    match = _RETURNED_START.search(text)
    return text[: match.start()] if match else text


def returned_id_from_text(facts: MailFacts) -> str | None:
    """The Message-ID of the returned message quoted in the body of a text NDR."""
    match = _MSGID_LINE.search(facts.text or _html_text(facts.html))
    return first_message_id(match.group(1)) if match else None


def failures_from_text(facts: MailFacts) -> tuple[DeliveryFailure, ...]:
    """Recipients, status and diagnostic recovered from the notice text."""
    ses = _ses_failures(facts.text or "")
    if ses:
        return ses
    notice = notice_text(facts)
    status = find_status(notice, failures_only=True) or _status_from_code(notice)
    action = "delayed" if _TEMPORARY.search(notice) or status.startswith("4") else "failed"
    diagnostic = _diagnostic(notice)
    return tuple(
        DeliveryFailure(recipient=r, status=status, diagnostic=diagnostic, action=action)
        for r in _recipients(facts, notice)
    ) or (DeliveryFailure(recipient="", status=status, diagnostic=diagnostic, action=action),)


def _recipients(facts: MailFacts, notice: str) -> list[str]:
    failed = facts.header("x-failed-recipients")
    if failed:
        return [a for a in (part.strip() for part in failed.split(",")) if "@" in a]
    ours = {a.address.lower() for a in (facts.from_, *facts.to) if a is not None}
    found: list[str] = []
    for address in _ADDRESS.findall(notice):
        lowered = address.lower().rstrip(".")
        if lowered not in ours and lowered not in found and not _DAEMON.match(lowered):
            found.append(lowered)
    return found[:20]


def _status_from_code(text: str) -> str:
    """Without an enhanced code, an SMTP reply code still says permanent or temporary."""
    match = _SMTP_CODE.search(text)
    return f"{match.group(1)}.0.0" if match else ""


def _diagnostic(notice: str) -> str:
    for line in notice.splitlines():
        if find_status(line) or _SMTP_CODE.search(line):
            return line.strip()[:500]
    for line in notice.splitlines():
        if _PHRASES.search(line):
            return line.strip()[:500]
    return ""


def _ses_failures(text: str) -> tuple[DeliveryFailure, ...]:
    start = text.find("{")
    if start < 0 or not _SES_JSON.search(text):
        return ()
    try:
        event, _ = json.JSONDecoder().raw_decode(text[start:])
        if isinstance(event, dict) and isinstance(event.get("Message"), str):
            event = json.loads(event["Message"])
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return ()
    bounce = event.get("bounce") if isinstance(event, dict) else None
    recipients = bounce.get("bouncedRecipients", []) if isinstance(bounce, dict) else []
    return tuple(
        DeliveryFailure(
            recipient=str(r.get("emailAddress", "")),
            status=str(r.get("status", "")),
            diagnostic=str(r.get("diagnosticCode", "")),
            action=str(r.get("action", "failed")),
        )
        for r in recipients
        if isinstance(r, dict)
    )


def _html_text(html: str | None) -> str:
    return html_to_text(html) if html else ""
