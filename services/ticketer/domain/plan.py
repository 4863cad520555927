"""``plan``: one classified email and what the store knows of it → a :class:`Decision`.

Pure: the lookups (:func:`services.ticketer.domain.threading.record_lookups`) have been
answered before, and ``found`` is the record they name. By kind:

- ``request``: appended to the record found as a ``reply`` (quotes stripped, reopened), or,
  with none, a new record keeping the mail's thread root, acknowledged as the policy says;
- ``auto_reply``: appended as a note without reopening, else ignored (``auto_reply``);
- ``bounce``: appended to the record of the returned message as a ``delivery_failure``
  without reopening, else ignored (``bounce_unmatched``);
- everything else: ignored, with ``<kind>:<rule>``.
"""

from __future__ import annotations

from libs.common.contracts import InboundEmail
from services.ticketer.domain.acknowledgement import AckPolicy, ack_intent
from services.ticketer.domain.decision import Append, AppendKind, Create, Decision, Ignore
from services.ticketer.domain.threadkeys import thread_root
from services.ticketer.domain.verdict import Classification


def plan(
    email: InboundEmail, verdict: Classification, found: int | None, ack: AckPolicy
) -> Decision:
    """What to make of ``email``; ``found``: the record its lookups named (``None``: none, or
    it was deleted before the decision could be applied: the plan is made again without it)."""
    if verdict.kind == "request":
        if found is None:
            create = Create(thread_root(email))
            return Decision(create, verdict, "new_request", ack_intent(email, verdict, ack))
        return Decision(Append(found, "reply", reopen=True, strip_quotes=True), verdict, "reply")
    if verdict.kind == "auto_reply":
        return _note(found, "auto_reply", verdict, "auto_reply")
    if verdict.kind == "bounce":
        return _note(found, "delivery_failure", verdict, "bounce_unmatched")
    return Decision(Ignore(f"{verdict.kind}:{verdict.reason}"), verdict)


def _note(found: int | None, kind: AppendKind, verdict: Classification, unmatched: str) -> Decision:
    """Appended without reopening (an out-of-office answer or a bounce needs no agent), or
    ignored as ``unmatched`` when there is no record for it."""
    if found is None:
        return Decision(Ignore(unmatched), verdict)
    return Decision(Append(found, kind, reopen=False), verdict, kind)
