"""Giving up on an inbound email: it is listed in quarantine with its reason, and the fetcher
is told (outcome ``quarantined``) to move the mail to the quarantine folder, so that it leaves
the inbox instead of coming back. ``mailpipe quarantine replay`` brings it back."""

from __future__ import annotations

import dataclasses

import structlog

from libs.common.broker.policy import Action, Delivery, Outcome, error_text
from libs.common.contracts import InboundEmail, QuarantinedEmail
from libs.common.errors import ContractError
from libs.common.settings import MailpipeConfig
from services.ticketer import convert
from services.ticketer.metrics import TicketerMetrics
from services.ticketer.ports import Outbox, Records

log = structlog.get_logger(__name__)


class Quarantine:
    def __init__(
        self, store: Records, outbox: Outbox, config: MailpipeConfig, metrics: TicketerMetrics
    ) -> None:
        self._store = store
        self._outbox = outbox
        #: Follows integration changes (:meth:`Ticketer.use`).
        self.config = config
        self._metrics = metrics

    def dead(self, email: InboundEmail, delivery: Delivery, outcome: Outcome) -> None:
        """A valid email that could not be handled (permanent error, or retries used up).

        If listing it with what the mail says fails (what broke the handler can break this
        too: a value a table or a contract refuses), it is listed again with only its mailbox,
        provider's id and the raw reason, so that a deterministic failure never keeps the mail
        circling; only a failure of that, too (the database down), is retried."""
        mail = convert.NamedMail(email.mailbox, email.provider, email.message_id, email.folder)
        try:
            self._quarantine(
                mail, outcome, delivery.attempt, email.internet_message_id, email.subject
            )
        except Exception as exc:
            log.error(
                "quarantine with the mail's details failed; listing it by its provider's id only",
                mailbox=email.mailbox,
                message_id=email.message_id,
                error=error_text(exc),
            )
            bare = dataclasses.replace(
                outcome, error=f"{outcome.error} [listing it in full failed: {error_text(exc)}]"
            )
            self._quarantine(mail, bare, delivery.attempt, None, "")

    def from_fetcher(self, event: QuarantinedEmail) -> None:
        """The fetcher moved a mail it could not read or publish to the quarantine folder:
        list it beside the ticketer's own entries (the mail is already moved: nothing is
        published back). Idempotent per (mailbox, provider's id), like every quarantine."""
        result = self._store.quarantine_email(
            event.mailbox,
            event.message_id,
            event.reason,
            detail=event.detail,
            attempts=event.failures,
            provider=event.provider,
            folder=event.folder,
            internet_message_id=event.internet_message_id,
            subject=event.subject,
        )
        if result.fresh:
            self._metrics.quarantined.labels(event.mailbox).inc()
            log.info(
                "mail quarantined by the fetcher listed",
                mailbox=event.mailbox,
                message_id=event.message_id,
                reason=event.reason,
            )

    def invalid(self, body: bytes, delivery: Delivery, error: ContractError) -> None:
        """An InboundEmail that breaks its contract: quarantine the mail when the body still
        names it (mailbox and provider's id) and the mailbox is ours."""
        named = convert.named_email(body)
        if named is None:
            return  # nothing to point at: the dead-letter queue keeps the message
        if named.mailbox not in {box.address for box in self.config.mailboxes}:
            return
        outcome = Outcome(Action.DEAD, reason=error.code, error=error.message)
        self._quarantine(named, outcome, delivery.attempt, None, "")

    def _quarantine(
        self,
        mail: convert.NamedMail,
        outcome: Outcome,
        attempts: int,
        internet_message_id: str | None,
        subject: str,
    ) -> None:
        mailbox, message_id = mail.mailbox, mail.message_id
        detail = outcome.error + (f" ({outcome.hint})" if outcome.hint else "")
        result = self._store.quarantine_email(
            mailbox,
            message_id,
            outcome.reason or "unexpected_error",
            detail=detail[:2000],
            attempts=attempts,
            provider=mail.provider,
            folder=mail.folder,
            internet_message_id=internet_message_id,
            subject=subject,
        )
        self._outbox.publish([convert.processed_email(result.processed)])
        if result.fresh and result.processed.outcome == "quarantined":
            self._metrics.quarantined.labels(mailbox).inc()
            log.error(
                "email quarantined",
                mailbox=mailbox,
                message_id=message_id,
                reason=outcome.reason,
                hint="see `mailpipe quarantine list`; replay with `mailpipe quarantine replay ID`",
            )
