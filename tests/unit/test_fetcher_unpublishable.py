"""A mail the fetcher can never publish: which failures are the mail's own, the count of
failures in a row, and the poller over plain stand-ins for Graph, the delta state and the
broker: the bad mail is quarantined after N rounds and the delta link saved; retryable and
mailbox-wide failures keep the link where it was and quarantine nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from libs.common.blobs import BlobStore, BlobTooLarge
from libs.common.contracts import InboundEmail, QuarantinedEmail
from libs.common.errors import (
    BrokerError,
    ConfigError,
    ContractError,
    PermanentError,
    UnroutableError,
)
from libs.common.graph import DeltaResult
from libs.common.graph.errors import (
    GraphAuthError,
    GraphNotFound,
    GraphPermanentError,
    TooLarge,
    error_from_response,
)
from libs.common.mail import Attachment, MailAddress, MailMessage, MessageView
from libs.common.mail.models import DeltaPage
from libs.common.settings import MailboxConfig
from services.fetcher.inflight import InFlight
from services.fetcher.poller import MailboxPoller
from services.fetcher.unpublishable import QUARANTINE_AFTER, FailureCounts, is_mail_fault
from tests.mail_fake import FakeMailbox

BOX = "poison-unit@contoso.example"
#: A received time no contract can carry (before the year 1 in UTC): the mapping is lenient
#: about everything else Graph sends, so this stands for "a mail that cannot be published".
UNMAPPABLE: dict[str, Any] = {"received_at": "0001-01-01T00:30:00+01:00"}


def graph_message(message_id: str, subject: str = "Printer broken", **changes: Any) -> MailMessage:
    message = MailMessage(
        id=message_id,
        internet_message_id=f"<{message_id}@customer.example>",
        received_at="2026-11-26T09:30:00Z",
        subject=subject,
        from_=MailAddress("jane@customer.example", "Jane"),
        to=(MailAddress(BOX),),
        body="hello",
    )
    return replace(message, **changes)


@dataclass
class FakeGraph(FakeMailbox):
    """Graph's mail folder as plain data: delta returns what is in the folder."""

    inbox: dict[str, MailMessage] = field(default_factory=dict)
    moved: list[tuple[str, str]] = field(default_factory=list)
    move_error: Exception | None = None
    rounds: int = 0

    def delta(
        self,
        folder: str = "inbox",
        cursor: str | None = None,
        *,
        view: MessageView = "full",
        page_size: int = 50,
    ) -> DeltaResult:
        self.rounds += 1
        return DeltaResult(list(self.inbox.values()), [], f"link-{self.rounds}")

    def iter_delta(
        self,
        folder: str = "inbox",
        cursor: str | None = None,
        *,
        view: MessageView = "full",
        page_size: int = 50,
    ) -> Iterator[DeltaPage]:
        result = self.delta(folder, cursor)
        yield DeltaPage(result.messages, result.removed, result.cursor)

    def move(self, message_id: str, folder: str) -> str:
        if self.move_error is not None:
            raise self.move_error
        self.inbox.pop(message_id)
        self.moved.append((message_id, folder))
        return message_id


@dataclass
class FakeState:
    links: dict[tuple[str, str], str] = field(default_factory=dict)

    def get_cursor(self, mailbox: str, folder: str) -> str | None:
        return self.links.get((mailbox, folder))

    def set_cursor(self, mailbox: str, folder: str, link: str, *, provider: str) -> None:
        self.links[(mailbox, folder)] = link


@dataclass
class Published:
    emails: list[InboundEmail] = field(default_factory=list)
    fail_for: dict[str, Exception] = field(default_factory=dict)

    def __call__(self, emails: list[InboundEmail]) -> None:
        for email in emails:  # all or none, as the poller expects
            if email.message_id in self.fail_for:
                raise self.fail_for[email.message_id]
            email.to_json()  # what the broker would do
        self.emails.extend(emails)


@dataclass
class Setup:
    graph: FakeGraph
    state: FakeState
    published: Published
    poller: MailboxPoller

    def link(self) -> str | None:
        return self.state.get_cursor(BOX, "inbox")


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    box = MailboxConfig(address=BOX, tenant_id="t", client_id="c", client_secret="s")
    graph, state, published = FakeGraph(), FakeState(), Published()
    poller = MailboxPoller(
        box,
        graph,
        state,
        BlobStore(tmp_path / "blobs"),
        published,
        InFlight(),
    )
    return Setup(graph, state, published, poller)


def quarantined_total() -> float:
    value = REGISTRY.get_sample_value(
        "mailpipe_fetcher_quarantined_unpublishable_total", {"mailbox": BOX}
    )
    return value or 0.0


# -- which failures are the mail's own ---------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "own"),
    [
        (ContractError("does not fit", hint="h"), True),
        (BlobTooLarge("over the limit", hint="h"), True),
        (TooLarge("too big", status=413, code="RequestEntityTooLarge", hint="h"), True),
        (error_from_response(400, {"error": {"code": "ErrorInvalidIdMalformed"}}), True),
        (error_from_response(403, {"error": {"code": "ErrorAccessDenied"}}), False),
        (error_from_response(404, {"error": {"code": "ErrorInvalidUser"}}), False),
        (GraphAuthError("refused", status=401, code="AADSTS7000215", hint="h"), False),
        (UnroutableError("no queue", hint="h"), False),
        (ConfigError("bad config", hint="h"), False),
        (PermanentError("something", hint="h"), False),
    ],
)
def test_only_failures_of_the_mail_itself_count_towards_quarantine(
    exc: PermanentError, own: bool
) -> None:
    assert isinstance(exc, PermanentError)
    assert is_mail_fault(exc) is own


def test_failures_are_counted_in_a_row_and_forgotten() -> None:
    counts = FailureCounts(limit=3)
    assert [counts.failed("a") for _ in range(3)] == [1, 2, 3]
    assert not counts.exhausted(2) and counts.exhausted(3)
    assert counts.failed("b") == 1 and counts.get("a") == 3
    counts.forget("a")
    assert counts.get("a") == 0 and len(counts) == 1
    assert counts.failed("a") == 1


# -- the poller ---------------------------------------------------------------------------


def test_an_unmappable_mail_is_quarantined_after_n_rounds_and_the_link_moves_on(
    setup: Setup,
) -> None:
    setup.graph.inbox = {
        "good-1": graph_message("good-1"),
        "bad": graph_message("bad", **UNMAPPABLE),
        "good-2": graph_message("good-2"),
    }
    before = quarantined_total()
    for n in range(1, QUARANTINE_AFTER):
        result = setup.poller.poll()
        assert result is not None and not result.complete and result.failed == 1
        assert setup.link() is None, "the bad mail holds the link back while it may recover"
        assert setup.graph.moved == [] and setup.poller.failures.get("bad") == n
        assert not setup.poller.status.ok
    assert sorted(e.message_id for e in setup.published.emails) == ["good-1", "good-2"]

    last = setup.poller.poll()
    assert last is not None and last.complete and last.quarantined == 1 and last.failed == 0
    assert setup.graph.moved == [("bad", "mailpipe-quarantine")]
    assert setup.link() == f"link-{QUARANTINE_AFTER}"
    assert quarantined_total() - before == 1
    assert setup.poller.status.ok and len(setup.poller.failures) == 0
    assert sorted(e.message_id for e in setup.published.emails) == ["good-1", "good-2"]
    assert all(e.message_id != "bad" for e in setup.published.emails), "nothing published"

    setup.graph.inbox["new"] = graph_message("new")
    later = setup.poller.poll()
    assert later is not None and later.complete and later.published == 1
    assert [e.message_id for e in setup.published.emails].count("new") == 1


@pytest.mark.parametrize(
    "broken",
    [
        UNMAPPABLE,
        {"id": "x" * 1001},  # longer than any id the contract allows
    ],
)
def test_each_kind_of_unmappable_mail_is_quarantined(setup: Setup, broken: dict[str, Any]) -> None:
    message = graph_message("bad", **broken)
    setup.graph.inbox = {message.id: message}
    results = [setup.poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert all(r is not None for r in results), "the mail fails, never the poll"
    assert [r.quarantined for r in results if r] == [0] * (QUARANTINE_AFTER - 1) + [1]
    assert setup.graph.moved == [(message.id, "mailpipe-quarantine")]
    assert setup.published.emails == [] and setup.link() is not None


def test_a_mail_that_recovers_starts_counting_from_zero(setup: Setup) -> None:
    setup.graph.inbox = {"flaky": graph_message("flaky")}
    setup.published.fail_for["flaky"] = ContractError("not yet", hint="h")
    for _ in range(QUARANTINE_AFTER - 1):
        setup.poller.poll()
    del setup.published.fail_for["flaky"]
    result = setup.poller.poll()
    assert result is not None and result.complete and result.published == 1
    assert setup.graph.moved == [] and setup.poller.failures.get("flaky") == 0


@pytest.mark.parametrize(
    "error",
    [
        BrokerError("broker down"),
        UnroutableError("no queue bound", hint="declare the topology"),
        error_from_response(403, {"error": {"code": "ErrorAccessDenied"}}),
    ],
)
def test_retryable_and_mailbox_wide_failures_never_quarantine(
    setup: Setup, error: Exception
) -> None:
    setup.graph.inbox = {"m": graph_message("m")}
    setup.published.fail_for["m"] = error
    for _ in range(QUARANTINE_AFTER * 2):
        result = setup.poller.poll()
        assert result is None or not result.complete
    assert setup.graph.moved == [] and setup.link() is None
    assert setup.poller.failures.get("m") == 0
    assert not setup.poller.status.ok


def test_a_refused_credential_is_the_mailbox_s_failure_not_the_mail_s(setup: Setup) -> None:
    setup.graph.inbox = {"m": graph_message("m")}
    setup.published.fail_for["m"] = GraphAuthError("refused", code="AADSTS7000215", hint="h")
    for _ in range(QUARANTINE_AFTER):
        assert setup.poller.poll() is None
    assert setup.poller.status.detail == "credential refused: AADSTS7000215"
    assert setup.graph.moved == [] and setup.link() is None


def test_a_quarantine_move_that_fails_keeps_the_link_and_tries_again(setup: Setup) -> None:
    setup.graph.inbox = {"bad": graph_message("bad", **UNMAPPABLE)}
    setup.graph.move_error = GraphPermanentError("folder refused", status=400, hint="h")
    for _ in range(QUARANTINE_AFTER + 1):
        result = setup.poller.poll()
        assert result is not None and not result.complete
    assert setup.link() is None
    setup.graph.move_error = None
    result = setup.poller.poll()
    assert result is not None and result.complete and result.quarantined == 1
    assert setup.graph.moved == [("bad", "mailpipe-quarantine")]


def test_a_mail_gone_before_its_quarantine_move_counts_as_done(setup: Setup) -> None:
    setup.graph.inbox = {"bad": graph_message("bad", **UNMAPPABLE)}
    setup.graph.move_error = GraphNotFound("gone", status=404, hint="h")
    results = [setup.poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert results[-1] is not None and results[-1].complete
    assert setup.link() == f"link-{QUARANTINE_AFTER}"


@dataclass
class WithFiles(FakeGraph):
    """Each mail has one attachment: ``files[id]``."""

    files: dict[str, bytes] = field(default_factory=dict)

    def get_attachments(self, message_id: str) -> list[Attachment]:
        content = self.files[message_id]
        kind = "application/octet-stream"
        return [Attachment("a1", "f.bin", kind, len(content), False, None, content)]


def test_a_mail_with_an_attachment_over_the_blob_limit_is_quarantined_with_its_reason(
    tmp_path: Path,
) -> None:
    """The limit is the blob store's (either store): the mail is at fault, not the round."""
    box = MailboxConfig(address=BOX, tenant_id="t", client_id="c", client_secret="s")
    graph = WithFiles(files={"big": b"x" * 101, "small": b"y" * 100})
    state, published = FakeState(), Published()
    reported: list[QuarantinedEmail] = []
    store = BlobStore(tmp_path / "blobs", max_bytes=100)
    poller = MailboxPoller(
        box, graph, state, store, published, InFlight(), report_quarantine=reported.append
    )
    graph.inbox = {gid: graph_message(gid, has_attachments=True) for gid in ("big", "small")}
    results = [poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert all(r is not None for r in results), "the mail fails, never the poll"
    assert [r.quarantined for r in results if r] == [0] * (QUARANTINE_AFTER - 1) + [1]
    assert graph.moved == [("big", "mailpipe-quarantine")]
    [event] = reported
    assert (event.message_id, event.reason) == ("big", "unpublishable:blob_too_large")
    assert "over the limit of 100 bytes" in event.detail
    assert [e.message_id for e in published.emails] == ["small"]
    assert len([p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]) == 1, "big not kept"
