"""The processed consumer: ``ProcessedEmail`` batches → delete / move / copy-then-delete /
quarantine move, through Graph ``$batch``.

Only a mail named by a ``ProcessedEmail`` is ever touched, and "not found" counts as done (a
redelivered message finds its mail already gone). Each item gets its own result: the loop acks
done items and retries or dead-letters the failed ones on their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

import structlog

from libs.common.broker import Delivery
from libs.common.contracts import ProcessedEmail
from libs.common.errors import ConfigError, RetryableError
from libs.common.mail import BatchOutcome, MailAuthError, Mailbox
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.fetcher import metrics
from services.fetcher.domain import Step, plan_step
from services.fetcher.inflight import InFlight

log = structlog.get_logger("services.fetcher")

Items = list[tuple[ProcessedEmail, Delivery]]
Result = BaseException | None

_ACTION_NAMES = {
    "delete": "deleted",
    "move": "moved",
    "copy_delete": "copied_deleted",
    "quarantine": "quarantined",
}


class ProcessedHandler:
    """A batch handler for ``Broker.consume_batch`` (one ``Mailbox`` per mailbox)."""

    def __init__(
        self,
        config: MailpipeConfig,
        graph_for: Callable[[str], Mailbox],
        inflight: InFlight,
    ) -> None:
        self._config = config
        #: Mailboxes removed since the start: their mail in flight still finishes.
        self._former: dict[str, MailboxConfig] = {}
        self._graph_for = graph_for
        self._inflight = inflight
        #: Originals already copied (copy is not idempotent: a retried delete must not copy
        #: again). Forgotten once the original is gone.
        self._copied: set[tuple[str, str]] = set()

    def use(self, config: MailpipeConfig) -> None:
        """The configuration from now on (an integration changed)."""
        for box in self._config.mailboxes:
            self._former[box.address] = box
        self._config = config

    def _box(self, address: str) -> MailboxConfig:
        try:
            return self._config.mailbox(address)
        except ConfigError:
            former = self._former.get(address.lower())
            if former is None:
                raise
            return former

    def __call__(self, items: Items) -> list[Result]:
        results: list[Result] = [None] * len(items)
        groups: dict[tuple[str, Step], list[int]] = defaultdict(list)
        for index, (email, _) in enumerate(items):
            try:
                box = self._box(email.mailbox)
            except ConfigError as exc:
                results[index] = exc
                continue
            groups[(box.address, _step(box, email.outcome))].append(index)
        for (mailbox, step), indexes in groups.items():
            ids = [items[i][0].message_id for i in indexes]
            for i, result in zip(indexes, self._run_group(mailbox, step, ids), strict=True):
                results[i] = result
        return results

    def _run_group(self, mailbox: str, step: Step, ids: list[str]) -> list[Result]:
        """One mailbox, one action: a failure of the whole group stays within the group."""
        unique = list(dict.fromkeys(ids))
        try:
            by_id = self._apply(mailbox, step, unique)
        except MailAuthError as exc:
            # Retry rather than park: the mail stays put until the credential is fixed.
            by_id = dict.fromkeys(unique, _auth_retryable(exc))
        except Exception as exc:  # classified by the loop (retryable unless permanent)
            by_id = dict.fromkeys(unique, exc)
        for message_id, result in by_id.items():
            if result is None:
                self._inflight.discard(mailbox, message_id)
                metrics.MAILS_REMOVED.labels(mailbox, _ACTION_NAMES[step.kind]).inc()
            else:
                log.warning(
                    "processed mail not removed yet",
                    mailbox=mailbox,
                    correlation_id=message_id,
                    action=step.kind,
                    error=str(result)[:300],
                )
        log.info("processed mail handled", mailbox=mailbox, action=step.kind, count=len(ids))
        return [by_id[message_id] for message_id in ids]

    def _apply(self, mailbox: str, step: Step, ids: list[str]) -> dict[str, Result]:
        graph = self._graph_for(mailbox)
        if step.kind == "delete":
            return _results(graph.delete_many(ids))
        if step.kind in ("move", "quarantine"):
            assert step.folder is not None
            return _results(graph.move_many(ids, step.folder))
        assert step.folder is not None
        return self._copy_then_delete(graph, mailbox, step.folder, ids)

    def _copy_then_delete(
        self, graph: Mailbox, mailbox: str, folder: str, ids: list[str]
    ) -> dict[str, Result]:
        to_copy = [i for i in ids if (mailbox, i) not in self._copied]
        results: dict[str, Result] = {}
        if to_copy:
            for gid, outcome in graph.copy_many(to_copy, folder).items():
                if outcome.outcome == "ok":
                    self._copied.add((mailbox, gid))
                elif outcome.outcome == "not_found":
                    results[gid] = None  # gone already: an earlier delivery finished it
                else:
                    results[gid] = _error(outcome)
        deletable = [i for i in ids if i not in results]
        if deletable:
            for gid, result in _results(graph.delete_many(deletable)).items():
                results[gid] = result
                if result is None:
                    self._copied.discard((mailbox, gid))
        return results


def _step(box: MailboxConfig, outcome: str) -> Step:
    return plan_step(
        outcome, action=box.after_processing_action, quarantine_folder=box.quarantine_folder
    )


def _results(outcomes: Mapping[str, BatchOutcome]) -> dict[str, Result]:
    return {gid: None if o.done else _error(o) for gid, o in outcomes.items()}


def _error(outcome: BatchOutcome) -> BaseException:
    if outcome.error is not None:
        return outcome.error
    return RetryableError(
        f"Graph answered HTTP {outcome.status} for a batch item", code="graph_batch_item"
    )


def _auth_retryable(exc: MailAuthError) -> RetryableError:
    return RetryableError(exc.message, code=exc.code, hint=exc.hint)
