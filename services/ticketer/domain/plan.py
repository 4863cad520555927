"""``plan``: one classified email and what the store knows of it → a :class:`Decision`.

Pure: the lookups (:func:`services.ticketer.domain.threading.record_lookups`) have been
answered before, and ``found`` is the record they name. By kind:

- ``request``: appended to the record found as a ``reply`` (quotes stripped, reopened), or,
  with none or once that record is gone, a new record, acknowledged as the policy says;
- ``auto_reply``: appended as a note without reopening, else ignored (``auto_reply``);
- ``bounce``: appended to the record of the returned message as a ``delivery_failure``
  without reopening, else ignored (``bounce_unmatched``);
- everything else: ignored, with ``<kind>:<rule>``.
"""

from __future__ import annotations

from libs.common.contracts import InboundEmail
from services.ticketer.domain.acknowledgement import AckPolicy, ack_intent
from services.ticketer.domain.decision import Append, AppendKind, Create, Decision, Ignore
from services.ticketer.domain.verdict import Classification


def plan(
    email: InboundEmail, verdict: Classification, found: int | None, ack: AckPolicy
) -> Decision:
    """What to make of ``email``; ``found``: the record its lookups named (``None``: none)."""
    if verdict.kind == "request":
        create = Decision(Create(), verdict, "new_request", ack_intent(email, verdict, ack))
        if found is None:
            return create
        reply = Append(found, "reply", reopen=True, strip_quotes=True)
        return Decision(reply, verdict, "reply", if_gone=create)
    if verdict.kind == "auto_reply":
        return _note(found, "auto_reply", verdict, "auto_reply")
    if verdict.kind == "bounce":
        return _note(found, "delivery_failure", verdict, "bounce_unmatched")
    return Decision(Ignore(f"{verdict.kind}:{verdict.reason}"), verdict)


def _note(found: int | None, kind: AppendKind, verdict: Classification, unmatched: str) -> Decision:
    """Appended without reopening (an out-of-office answer or a bounce needs no agent), or
    ignored as ``unmatched`` when there is no record for it."""
    ignore = Decision(Ignore(unmatched), verdict)
    if found is None:
        return ignore
    return Decision(Append(found, kind, reopen=False), verdict, kind, if_gone=ignore)
