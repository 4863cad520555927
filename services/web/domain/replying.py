"""Replying from the console (docs/console.md, "Replying"), the pure part: which From
addresses an agent may choose, what a reply form may carry, and the ``OutboundEmail`` job it
becomes. The sender checks the From again against the mailbox's ``send_as`` list, so a forged
form field that slipped past the console is still refused there (``send_as_not_allowed``)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from libs.common.contracts import OutboundEmail, clean_header_value
from libs.common.subject_prefix import without_prefixes

#: The longest reply text, in characters.
MAX_TEXT = 100_000
#: Attachments: each file, and all of a reply's files together (the page says both).
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILES = 20
#: Files up to this size ride in the job (base64); larger ones go through the blob store
#: and the job carries their reference (the claim check the sender reads).
INLINE_BYTES = 1024 * 1024
#: References kept from the thread (the newest), under the contract's limit.
MAX_REFERENCES = 50

#: The form's idempotency key: the page makes it, a second send of the form reuses it.
_KEY = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class SendingPolicy:
    """What the record's integration allows: its mailbox, whether agents may send as
    themselves, and the addresses Send As is granted for."""

    mailbox: str
    allow_personal: bool = False
    send_as: tuple[str, ...] = ()


def from_choices(policy: SendingPolicy, personal_email: str | None) -> tuple[str, ...]:
    """The mailbox, then the agent's own address when the integration allows personal
    profiles and lists it."""
    mailbox = policy.mailbox.lower()
    own = (personal_email or "").strip().lower()
    listed = {a.lower() for a in policy.send_as}
    if policy.allow_personal and own and own in listed and own != mailbox:
        return (mailbox, own)
    return (mailbox,)


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Draft:
    """A reply form as posted."""

    text: str
    from_address: str
    key: str
    files: tuple[Upload, ...] = field(default_factory=tuple)


def problems(draft: Draft, choices: Sequence[str]) -> dict[str, str]:
    """Each wrong field of ``draft`` and what to do, by field name (empty: it may be sent)."""
    errors: dict[str, str] = {}
    if not draft.text.strip():
        errors["text"] = "Write the reply."
    elif len(draft.text) > MAX_TEXT:
        errors["text"] = f"The reply is {len(draft.text)} characters; at most {MAX_TEXT}."
    if draft.from_address.lower() not in choices:
        errors["from_address"] = (
            f"You may not send as {draft.from_address or 'nobody'}: choose one of "
            + ", ".join(choices)
            + "."
        )
    errors.update(_file_problems(draft.files))
    if not _KEY.match(draft.key):
        errors["text"] = "This form has no valid reply key: reload the page and send again."
    return errors


def _file_problems(files: Sequence[Upload]) -> dict[str, str]:
    mib = 1024 * 1024
    if len(files) > MAX_FILES:
        return {"attachments": f"At most {MAX_FILES} files; remove some."}
    for upload in files:
        if len(upload.data) > MAX_FILE_BYTES:
            return {
                "attachments": f"{upload.name} is over {MAX_FILE_BYTES // mib} MiB; "
                "send it another way or make it smaller."
            }
    if sum(len(u.data) for u in files) > MAX_TOTAL_BYTES:
        return {"attachments": f"The files are over {MAX_TOTAL_BYTES // mib} MiB together."}
    return {}


def reply_subject(subject: str) -> str:
    """``Re: <subject>``, once, whatever reply and forward prefixes the subject carried
    ("AW: WG: Drucker" → "Re: Drucker", libs/common/subject_prefix.py); the sender adds the
    record's token."""
    subject = without_prefixes(" ".join(clean_header_value(subject).split()))
    return f"Re: {subject}".strip()


def job_id_of(record_id: int, key: str) -> str:
    return f"console-{record_id}-{key}"


@dataclass(frozen=True)
class Reply:
    """Everything the job is made of, the attachments already placed (inline or blob)."""

    record_id: int
    key: str
    mailbox: str
    from_address: str
    to: str
    subject: str
    text: str
    in_reply_to: str | None
    references: tuple[str, ...]
    attachments: tuple[dict[str, object], ...]
    created_at: datetime


def attachment_header(upload: Upload) -> dict[str, object]:
    """The attachment's name and type as the job carries them, without its content."""
    return {
        "name": clean_header_value(upload.name).strip() or "attachment",
        "content_type": clean_header_value(upload.content_type).strip()
        or "application/octet-stream",
    }


def inline_attachment(upload: Upload) -> dict[str, object]:
    return attachment_header(upload) | {
        "content_base64": base64.b64encode(upload.data).decode("ascii")
    }


def build_job(reply: Reply) -> OutboundEmail:
    """The ``OutboundEmail`` of ``reply`` (a ContractError names a field the contract refuses).
    From is the mailbox's unless an agent's own address was chosen."""
    personal = reply.from_address.lower() != reply.mailbox.lower()
    data = {
        "job_id": job_id_of(reply.record_id, reply.key),
        "mailbox": reply.mailbox,
        "from_address": reply.from_address if personal else None,
        "to": [{"address": reply.to}],
        "subject": reply_subject(reply.subject),
        "text": reply.text,
        "attachments": list(reply.attachments),
        "in_reply_to": reply.in_reply_to,
        "references": list(reply.references[-MAX_REFERENCES:]),
        "record_id": reply.record_id,
        "created_at": reply.created_at.isoformat(),
    }
    return OutboundEmail.from_json(json.dumps(data))
