"""The body and attachment parts of a job's message, for
:func:`~services.sender.domain.mime.build_mime`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import EmailMessage, MIMEPart
from typing import Any

from libs.common.contracts import OutboundEmail
from services.sender.domain.attachments import AttachmentBytes
from services.sender.domain.mime_check import Intended

_TYPE_RE = re.compile(r"^([a-z0-9][a-z0-9!#$&^_.+-]*)/([a-z0-9][a-z0-9!#$&^_.+-]*)$")


def write_body(
    msg: EmailMessage,
    intended: Intended,
    job: OutboundEmail,
    attachments: Sequence[AttachmentBytes],
) -> None:
    """The text and HTML bodies, then the attachments (an inline one with a Content-ID beside
    the HTML it is shown in); the file names are noted in ``intended``."""
    if job.text is not None:
        msg.set_content(job.text)
        if job.html is not None:
            msg.add_alternative(job.html, subtype="html")
    else:
        msg.set_content(job.html or "", subtype="html")
    html_part = _html_part(msg) if job.html is not None else None
    for att in attachments:
        intended.filenames.append(att.name)
        maintype, subtype = _content_type(att.content_type)
        if html_part is not None and att.is_inline and att.content_id:
            html_part.add_related(
                att.data,
                maintype,
                subtype,
                cid=f"<{att.content_id}>",
                filename=att.name,
                disposition="inline",
            )
        else:
            msg.add_attachment(att.data, maintype, subtype, filename=att.name)
    for part in msg.iter_parts():
        _drop_inner_mime_version(part)


def _drop_inner_mime_version(part: MIMEPart) -> None:
    """The email package repeats MIME-Version in parts it creates; only the top needs it."""
    del part["MIME-Version"]
    for sub in part.iter_parts():
        _drop_inner_mime_version(sub)


def _html_part(msg: EmailMessage) -> EmailMessage:
    if msg.get_content_type() == "multipart/alternative":
        parts: Any = msg.get_payload()
        html: EmailMessage = parts[-1]
        return html
    return msg


def _content_type(value: str) -> tuple[str, str]:
    """``(maintype, subtype)``; odd or container types travel as application/octet-stream."""
    found = _TYPE_RE.match(value.split(";", 1)[0].strip().lower())
    if not found or found.group(1) in ("multipart", "message"):
        return "application", "octet-stream"
    return found.group(1), found.group(2)
