"""``Applier``: the store's side of a :class:`Decision` — answering the plan's lookups, and
applying the decision inside the caller's unit of work.

Applying stores the outcome and, in the same log row, the decision itself (the RecordEvent
``change`` and the acknowledgement intent), so a redelivery publishes from what was stored
(``services/ticketer/effects.py``) without deciding again. A new record the plan acknowledges
gets its rate reservation and outbox job in the same unit (``acknowledge.py``). When the record
a decision appends to was deleted in the meantime, the plan made without a record is applied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from libs.common.contracts import InboundEmail, OutboundEmail
from libs.common.settings import MailboxConfig
from services.ticketer import convert
from services.ticketer.acknowledge import Acknowledger
from services.ticketer.domain.decision import Append, Create, Decision, stored_ack
from services.ticketer.domain.facts import MailFacts
from services.ticketer.domain.threading import Lookup
from services.ticketer.ports import Records, RequesterLookup
from services.ticketer.store.errors import RecordNotFound
from services.ticketer.store.models import Decided, DeliveryFailure, Party, WriteResult

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Applied:
    """What applying did: the write, the decision applied (the one without a record when the
    record found was deleted meanwhile),
    the acknowledgement job put in the outbox, and whether the rate limit held one back."""

    result: WriteResult
    decision: Decision
    job: OutboundEmail | None = None
    limited: bool = False


class Applier:
    def __init__(
        self, store: Records, acks: Acknowledger, requesters: RequesterLookup | None = None
    ) -> None:
        self._store = store
        self._acks = acks
        self._requesters = requesters

    def warm(self, emails: Sequence[InboundEmail]) -> None:
        """Look up the batch's senders before its transaction opens, so that a Graph lookup
        never runs while the transaction holds the database's write lock (the directory
        keeps the answers, and answers the lookups inside from memory)."""
        if self._requesters is None:
            return
        for email in emails:
            sender = email.from_ or email.sender
            if sender is not None:
                self._requesters(email.mailbox, sender.address)
        # Senders a directory outage left unknown are looked up again here, a few per batch,
        # outside the transaction like the rest.
        self._requesters.catch_up()

    def find(
        self, email: InboundEmail, box: MailboxConfig, lookups: Sequence[Lookup]
    ) -> int | None:
        """The record the first answered lookup names, in the plan's order."""
        for lookup in lookups:
            found = self._answer(email.mailbox, box, lookup)
            if found is not None:
                return found
        return None

    def _answer(self, mailbox: str, box: MailboxConfig, lookup: Lookup) -> int | None:
        if lookup.by == "token":
            token = lookup.record_id
            if token is None or self._store.record_mailbox(token) != box.address:
                return None
            return token
        if lookup.by == "message_ids":
            return self._store.find_record_by_message_ids(mailbox, lookup.ids)
        if lookup.by == "conversation":
            return self._store.find_record_by_conversation(mailbox, lookup.ids[0])
        if lookup.by == "thread_root" and lookup.requester is not None:
            return self._store.find_record_by_thread_root(mailbox, lookup.ids[0], lookup.requester)
        if lookup.by == "answered_by":
            return self._store.find_record_answering(mailbox, lookup.ids[0])
        ref = self._store.find_message_by_internet_id(mailbox, lookup.ids[0])
        return ref.record_id if ref is not None else None

    def apply(
        self,
        email: InboundEmail,
        facts: MailFacts,
        box: MailboxConfig,
        decision: Decision,
        decide: Callable[[int | None], Decision],
    ) -> Applied:
        """``decide(found)``: the plan of this email for another record found; when the record
        ``decision`` appends to was deleted meanwhile, ``decide(None)`` is applied instead."""
        try:
            result = self._write(email, facts, decision)
        except RecordNotFound:
            if not isinstance(decision.action, Append):
                raise
            log.info("the record to append to was deleted", change=decision.change)
            return self.apply(email, facts, box, decide(None), decide)
        record_id = result.processed.record_id
        if not result.created or record_id is None or decision.ack.state != "acknowledge":
            return Applied(result, decision)
        ack = self._acks.acknowledge(email, box, record_id)
        return Applied(result, decision, ack.job, ack.limited)

    def _write(self, email: InboundEmail, facts: MailFacts, decision: Decision) -> WriteResult:
        decided = Decided(decision.change, stored_ack(decision.ack))
        action = decision.action
        if isinstance(action, Create):
            message = convert.new_message(email, facts, "request")
            requester = self._requester(email)
            return self._store.create_record_with_message(
                message, requester=requester, decided=decided, thread_root=action.thread_root
            )
        if isinstance(action, Append):
            failures: tuple[DeliveryFailure, ...] = ()
            if action.kind == "delivery_failure":
                failures = convert.delivery_failures(decision.verdict)
            message = convert.new_message(
                email, facts, action.kind, strip_quotes=action.strip_quotes, failures=failures
            )
            return self._store.append_message(
                action.record_id, message, reopen=action.reopen, decided=decided
            )
        return self._store.record_ignored(
            email.mailbox,
            email.message_id,
            action.reason,
            provider=email.provider,
            folder=email.folder,
            internet_message_id=email.internet_message_id,
        )

    def _requester(self, email: InboundEmail) -> Party | None:
        """The sender, named as the tenant knows them when the lookup says."""
        sender = email.from_ or email.sender
        if sender is None:
            return None
        party = Party(sender.address, sender.name)
        if self._requesters is None:
            return party
        found = self._requesters(email.mailbox, sender.address)
        if found is not None and found.in_tenant and found.display_name:
            return Party(sender.address, found.display_name)
        return party
