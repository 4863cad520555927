"""What one classified email becomes in the store: the threading rules and the write.

Threading, in this order: the record token in the subject (a record of this mailbox), then
In-Reply-To / References (any message of a record, ours included), then Graph's
conversationId. Requests append to the record found (quoted text stripped, reopened) or make a
new one; auto-replies become notes (no reopening) or are ignored; bounces attach to the record of
the returned message as delivery failures; everything else is logged as ignored with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from libs.common.contracts import InboundEmail
from libs.common.record_token import find_record_token
from libs.common.settings import MailboxConfig
from services.ticketer import convert
from services.ticketer.domain.facts import MailFacts
from services.ticketer.domain.verdict import Classification
from services.ticketer.ports import Records, RequesterLookup
from services.ticketer.store.errors import RecordNotFound
from services.ticketer.store.models import Party, WriteResult

log = structlog.get_logger(__name__)


class OutcomeWriter:
    def __init__(self, store: Records, requesters: RequesterLookup | None = None) -> None:
        self._store = store
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

    def write(
        self, email: InboundEmail, box: MailboxConfig, facts: MailFacts, verdict: Classification
    ) -> tuple[WriteResult, str | None]:
        if verdict.kind == "request":
            return self._request(email, box, facts)
        if verdict.kind == "auto_reply":
            return self._auto_reply(email, box, facts)
        if verdict.kind == "bounce":
            return self._bounce(email, facts, verdict)
        return self._ignore(email, f"{verdict.kind}:{verdict.reason}"), None

    def _request(
        self, email: InboundEmail, box: MailboxConfig, facts: MailFacts
    ) -> tuple[WriteResult, str | None]:
        record_id = self._thread(email, box, facts)
        if record_id is not None:
            reply = convert.new_message(email, facts, "reply", strip_quotes=True)
            try:
                return self._store.append_message(record_id, reply), "reply"
            except RecordNotFound:
                log.info("reply to a deleted record; starting a new one", record_id=record_id)
        message = convert.new_message(email, facts, "request")
        return self._store.create_record_with_message(
            message, requester=self._requester(email)
        ), "new_request"

    def _auto_reply(
        self, email: InboundEmail, box: MailboxConfig, facts: MailFacts
    ) -> tuple[WriteResult, str | None]:
        record_id = self._thread(email, box, facts)
        if record_id is not None:
            note = convert.new_message(email, facts, "auto_reply")
            try:
                # A note only: an out-of-office answer needs no agent, so no reopening.
                return self._store.append_message(record_id, note, reopen=False), "auto_reply"
            except RecordNotFound:
                pass
        return self._ignore(email, "auto_reply"), None

    def _bounce(
        self, email: InboundEmail, facts: MailFacts, verdict: Classification
    ) -> tuple[WriteResult, str | None]:
        original = verdict.original_message_id
        ref = self._store.find_message_by_internet_id(email.mailbox, original) if original else None
        if ref is not None:
            failures = convert.delivery_failures(verdict)
            message = convert.new_message(email, facts, "delivery_failure", failures=failures)
            try:
                return self._store.append_message(
                    ref.record_id, message, reopen=False
                ), "delivery_failure"
            except RecordNotFound:
                pass
        return self._ignore(email, "bounce_unmatched"), None

    def _ignore(self, email: InboundEmail, reason: str) -> WriteResult:
        return self._store.record_ignored(
            email.mailbox,
            email.graph_id,
            reason,
            folder=email.folder,
            internet_message_id=email.internet_message_id,
        )

    def _thread(self, email: InboundEmail, box: MailboxConfig, facts: MailFacts) -> int | None:
        """Record token in the subject, then In-Reply-To/References, then conversationId."""
        token = find_record_token(email.subject, box.record_token_format)
        if token is not None and self._store.record_mailbox(token) == box.address:
            return token
        ids = convert.thread_ids(facts)
        if ids:
            found = self._store.find_record_by_message_ids(email.mailbox, ids)
            if found is not None:
                return found
        if email.conversation_id:
            return self._store.find_record_by_conversation(email.mailbox, email.conversation_id)
        return None

    def _requester(self, email: InboundEmail) -> Party | None:
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
