"""Field blocks of report parts: ``message/delivery-status`` (RFC 3464) and
``message/feedback-report`` (RFC 5965). Pure text in, plain data out."""

from __future__ import annotations

import re
from collections.abc import Sequence

from services.ticketer.domain.facts import DeliveryStatus

Fields = tuple[tuple[str, str], ...]

_FIELD_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*:\s?(.*)$")
_STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_RECIPIENT_FIELDS = {"final-recipient", "original-recipient", "action", "status"}


def field_blocks(text: str) -> list[Fields]:
    """Split ``Name: value`` blocks separated by blank lines; folded lines are joined."""
    blocks: list[Fields] = []
    current: list[tuple[str, str]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(tuple(current))
                current = []
            continue
        if line[:1] in (" ", "\t") and current:
            name, value = current[-1]
            current[-1] = (name, f"{value} {line.strip()}".strip())
            continue
        match = _FIELD_RE.match(line)
        if match:
            current.append((match.group(1).lower(), match.group(2).strip()))
    if current:
        blocks.append(tuple(current))
    return blocks


def split_delivery_status(blocks: Sequence[Fields]) -> tuple[Fields, tuple[DeliveryStatus, ...]]:
    """Per-message fields and per-recipient statuses of a delivery-status part."""
    message: list[tuple[str, str]] = []
    recipients: list[DeliveryStatus] = []
    for block in blocks:
        names = {name for name, _ in block}
        if names & _RECIPIENT_FIELDS:
            recipients.append(_recipient(dict(block)))
        else:
            message.extend(block)
    return tuple(message), tuple(recipients)


def _recipient(fields: dict[str, str]) -> DeliveryStatus:
    return DeliveryStatus(
        final_recipient=strip_type(fields.get("final-recipient", "")),
        original_recipient=strip_type(fields.get("original-recipient", "")),
        action=fields.get("action", "").strip().lower().split(" ")[0],
        status=refine_status(
            find_status(fields.get("status", "")) or "", fields.get("diagnostic-code", "")
        ),
        diagnostic_code=strip_type(fields.get("diagnostic-code", "")),
        remote_mta=strip_type(fields.get("remote-mta", "")),
    )


def strip_type(value: str) -> str:
    """``rfc822; a@b`` → ``a@b``; ``smtp; 550 …`` → ``550 …`` (the address/diagnostic type)."""
    value = value.strip()
    head, sep, tail = value.partition(";")
    if sep and re.fullmatch(r"[A-Za-z0-9-]{2,20}", head.strip()):
        value = tail.strip()
    return value.strip("<>") if value.startswith("<") and value.endswith(">") else value


def find_status(text: str, *, failures_only: bool = False) -> str | None:
    """The most telling enhanced status code (``5.1.1``) in a text, or ``None``.

    The first specific code wins over a generic ``x.0.0`` (many MTAs put the generic one
    first and the real one in the remote server's answer).
    """
    codes = [".".join(m.groups()) for m in _STATUS_RE.finditer(text)]
    if failures_only:
        codes = [c for c in codes if c[0] in "45"]
    return next((c for c in codes if not c.endswith(".0.0")), codes[0] if codes else None)


def refine_status(status: str, diagnostic: str) -> str:
    """Replace a generic ``x.0.0`` by the specific code of the same class in the diagnostic."""
    if status and not status.endswith(".0.0"):
        return status
    found = find_status(diagnostic)
    if found and (not status or found[0] == status[0]):
        return found
    return status
