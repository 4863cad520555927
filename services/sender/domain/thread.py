"""In-Reply-To and References of an outgoing reply: from the job, or from the record's thread."""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.contracts import OutboundEmail
from libs.common.msgid import normalise_message_id, split_message_ids

#: References kept at most: the thread root plus the most recent ones (RFC 5322 §3.6.4 allows
#: trimming; threading needs the root and the parent, and long headers upset some servers).
MAX_REFERENCES = 20


@dataclass(frozen=True)
class ThreadContext:
    """What the ticketer knows of the record a reply belongs to."""

    #: Message-ID of the last mail received on the record: the one this reply answers.
    last_inbound_message_id: str | None = None
    #: Every Message-ID known on the record, oldest first (inbound and outbound).
    message_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThreadHeaders:
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()


def thread_headers(
    job: OutboundEmail,
    thread: ThreadContext | None,
    *,
    own_message_id: str,
    limit: int = MAX_REFERENCES,
) -> ThreadHeaders:
    """The job's own threading when it has any, else the record's; the parent goes last."""
    parent: str | None
    if job.in_reply_to or job.references:
        refs = [i for value in job.references for i in split_message_ids(value)]
        parent = normalise_message_id(job.in_reply_to or "") or (refs[-1] if refs else None)
    elif thread is not None:
        refs = [i for value in thread.message_ids for i in split_message_ids(value)]
        parent = normalise_message_id(thread.last_inbound_message_id or "")
        parent = parent or (refs[-1] if refs else None)
    else:
        return ThreadHeaders()
    own = own_message_id.lower()
    ordered = _unique([r for r in refs if r.lower() != (parent or "").lower()])
    if parent is not None:
        ordered.append(parent)
    ordered = [r for r in ordered if r.lower() != own]
    if parent is not None and parent.lower() == own:
        parent = None
    return ThreadHeaders(parent, _cap(ordered, limit))


def _unique(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for mid in ids:
        if mid.lower() not in seen:
            seen.add(mid.lower())
            out.append(mid)
    return out


def _cap(ids: list[str], limit: int) -> tuple[str, ...]:
    """The first id (thread root) and the last ``limit - 1``: what threading needs."""
    if len(ids) <= limit:
        return tuple(ids)
    if limit <= 1:
        return tuple(ids[-1:])
    return (ids[0], *ids[-(limit - 1) :])
