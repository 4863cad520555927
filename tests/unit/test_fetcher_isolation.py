"""The poller over a plain stand-in for Graph that fails reads of chosen mails: a poisoned
delta narrows (small pages, then by id) and the bad mail is quarantined by id through the one
seam while every other mail is published once; a part Graph cannot serve counts only when a
neighbour's read of that kind succeeds, or, when there is no other mail, while the folder is
served and the same error repeats; when Graph serves no mail, none is blamed; a refused
credential is not asked again before it is due."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from libs.common.blobs import BlobStore
from libs.common.contracts import InboundEmail
from libs.common.graph import GraphAuthError, GraphError, GraphNotFound
from libs.common.graph.errors import error_from_response
from libs.common.mail import (
    Attachment,
    MailAddress,
    MailError,
    MailFolder,
    MailMessage,
    MessageView,
)
from libs.common.mail.models import DeltaPage
from libs.common.settings import MailboxConfig
from services.fetcher.credential import CredentialBackoff
from services.fetcher.inflight import InFlight
from services.fetcher.narrowing import NARROW_RETRY_S
from services.fetcher.poller import MailboxPoller
from services.fetcher.quarantine import Quarantined
from services.fetcher.unpublishable import QUARANTINE_AFTER
from tests.mail_fake import FakeMailbox
from tests.unit.test_fetcher_unpublishable import UNMAPPABLE, FakeState, graph_message

BOX = "isolation-unit@contoso.example"
QUARANTINE = "mailpipe-quarantine"


def message(message_id: str, subject: str = "Printer broken", **changes: Any) -> MailMessage:
    return graph_message(message_id, subject, to=(MailAddress(BOX),), **changes)


def server_error(status: int = 500, code: str = "ErrorInternalServerError") -> GraphError:
    body = {"error": {"code": code, "message": "cannot render"}}
    return error_from_response(status, body, request_id=f"rid-{status}", what="read")


@dataclass
class FakeGraph(FakeMailbox):
    """A folder whose reads fail for ``poisoned`` mails (everything of them), for the parts
    of ``parts_poisoned`` ones (``$value``, attachments), or for every mail (``no_mail``;
    id listings still work), with ``status`` (500). ``others``: ids of mail in other
    folders. ``folder_fails``: the folder resource is not served; ``listing_fails``: the
    mailbox's id listing is not served (the folder's still is)."""

    inbox: dict[str, MailMessage] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)
    poisoned: set[str] = field(default_factory=set)
    parts_poisoned: set[str] = field(default_factory=set)
    no_mail: bool = False
    status: int = 500
    folder_fails: bool = False
    listing_fails: bool = False
    folder_reads: int = 0
    refused: GraphAuthError | None = None
    moved: list[tuple[str, str]] = field(default_factory=list)
    budgets: list[float] = field(default_factory=list)
    rounds: int = 0
    address: str = BOX

    def _check(self, message_id: str, *, part: bool = False) -> None:
        if message_id not in self.inbox and message_id not in self.others:
            raise GraphNotFound("gone", status=404, code="ErrorItemNotFound", hint="h")
        if (
            self.no_mail
            or message_id in self.poisoned
            or (part and message_id in self.parts_poisoned)
        ):
            raise server_error(self.status)

    def iter_delta(
        self,
        folder: str = "inbox",
        cursor: str | None = None,
        *,
        view: MessageView = "full",
        page_size: int = 50,
    ) -> Iterator[DeltaPage]:
        if self.refused is not None:
            raise self.refused
        self.rounds += 1
        items = list(self.inbox.values())
        for start in range(0, max(len(items), 1), page_size):
            page = items[start : start + page_size]
            for item in page:
                self._check(item.id)
            last = start + page_size >= len(items)
            yield DeltaPage(page, [], f"link-{self.rounds}" if last else None)

    def iter_messages(
        self, folder: str | None = "inbox", *, view: MessageView = "summary", top: int = 50
    ) -> Iterator[MailMessage]:
        if folder is None and self.listing_fails:
            raise server_error()
        if folder is None:
            ids = [*self.inbox, *self.others]
        elif folder == "inbox":
            ids = list(self.inbox)
        else:
            ids = [gid for gid, to in self.moved if to == folder and gid in self.others]
        yield from (MailMessage(gid) for gid in ids)

    def get_messages_many(
        self, message_ids: Iterable[str], *, view: MessageView = "full"
    ) -> dict[str, MailMessage | MailError]:
        out: dict[str, MailMessage | MailError] = {}
        for gid in message_ids:
            try:
                out[gid] = self.get_message(gid)
            except GraphError as exc:
                out[gid] = exc
        return out

    def get_message(self, message_id: str, *, view: MessageView = "full") -> MailMessage:
        self._check(message_id)
        return self.inbox.get(message_id) or message(message_id)

    def get_folder(self, folder: str = "inbox") -> MailFolder:
        self.folder_reads += 1
        if self.folder_fails:
            raise server_error()
        return MailFolder(id=folder, display_name=folder, total_count=len(self.inbox))

    def get_mime(self, message_id: str) -> bytes:
        self._check(message_id, part=True)
        return b"Subject: x\r\n\r\nbody\r\n"

    def get_attachments(self, message_id: str) -> list[Attachment]:
        self._check(message_id, part=True)
        return []

    def get_attachments_many(
        self, message_ids: Iterable[str]
    ) -> dict[str, list[Attachment] | MailError]:
        out: dict[str, list[Attachment] | MailError] = {}
        for gid in message_ids:
            try:
                out[gid] = self.get_attachments(gid)
            except GraphError as exc:
                out[gid] = exc
        return out

    def move(self, message_id: str, folder: str) -> str:
        self.inbox.pop(message_id)
        self.others.append(message_id)
        self.moved.append((message_id, folder))
        return message_id

    def retry_budget(self, budget_s: float) -> AbstractContextManager[None]:
        self.budgets.append(budget_s)
        return nullcontext()


@dataclass
class Setup:
    graph: FakeGraph
    links: FakeState
    published: list[InboundEmail]
    poller: MailboxPoller
    entries: list[Quarantined]
    batches: list[int]

    def link(self) -> str | None:
        return self.links.get_cursor(BOX, "inbox")

    def ids(self) -> list[str]:
        return [e.message_id for e in self.published]


def make(tmp_path: Path, graph: FakeGraph, *, page_size: int = 100, **box: Any) -> Setup:
    config = MailboxConfig(
        address=BOX, tenant_id="t", client_id="c", client_secret="s", poll_interval_s=1, **box
    )
    links, published, batches = FakeState(), [], []

    def publish(emails: list[InboundEmail]) -> None:
        batches.append(len(emails))
        published.extend(emails)

    poller = MailboxPoller(
        config,
        graph,
        links,
        BlobStore(tmp_path / "blobs"),
        publish,
        InFlight(),
        page_size=page_size,
    )
    entries: list[Quarantined] = []
    seam = poller._quarantiner.quarantine

    def spy(entry: Quarantined) -> Any:
        entries.append(entry)
        return seam(entry)

    poller._quarantiner.quarantine = spy  # type: ignore[method-assign]
    return Setup(graph, links, published, poller, entries, batches)


def test_a_poisoned_delta_narrows_and_the_bad_mail_is_quarantined_by_id(tmp_path: Path) -> None:
    graph = FakeGraph()
    for n in range(18):
        graph.inbox[f"m{n:02}"] = message(f"m{n:02}")
    graph.poisoned.add("m12")
    setup = make(tmp_path, graph)
    poller = setup.poller

    assert poller.poll() is None and poller.ladder.mode == "small"
    assert poller.poll() is None and setup.ids() == [f"m{n:02}" for n in range(10)]
    assert poller.ladder.mode == "by_id"
    rounds = [poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert [(r.mode, r.failed, r.quarantined) for r in rounds if r] == [
        ("by_id", 1, 0),
        ("by_id", 1, 0),
        ("by_id", 0, 1),
    ]
    assert sorted(setup.ids()) == sorted(gid for gid in graph.inbox if gid != "m12")
    assert graph.moved == [("m12", QUARANTINE)] and setup.link() is None
    assert set(graph.budgets) == {NARROW_RETRY_S, 0.0}, "narrowed reads retry briefly"
    (entry,) = setup.entries
    assert (entry.mailbox, entry.message_id, entry.reason) == (BOX, "m12", "unreadable")
    assert entry.code == "ErrorInternalServerError" and "rid-500" in entry.error
    assert entry.failures == QUARANTINE_AFTER and QUARANTINE in entry.hint
    assert entry.folder == "inbox"

    moved_on = poller.poll()
    assert moved_on is not None and moved_on.complete and moved_on.mode == "small"
    assert moved_on.published == 0 and setup.link() is not None


def test_a_part_graph_cannot_serve_counts_with_a_neighbour_s_proof(tmp_path: Path) -> None:
    graph = FakeGraph(inbox={g: message(g) for g in ("a", "bad", "b")}, parts_poisoned={"bad"})
    setup = make(tmp_path, graph, keep_raw_mime=True)
    with capture_logs() as logs:
        rounds = [setup.poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert [(r.published, r.failed, r.quarantined) for r in rounds if r] == [
        (2, 1, 0),
        (0, 1, 0),
        (0, 0, 1),
    ]
    assert setup.ids() == ["a", "b"] and graph.moved == [("bad", QUARANTINE)]
    (entry,) = setup.entries
    assert entry.reason == "unreadable" and entry.facts.subject == "Printer broken"
    assert entry.facts.internet_message_id == "<bad@customer.example>"
    counted = [e for e in logs if e["event"] == "mail could not be read"]
    assert [e["failures"] for e in counted] == [1, 2]
    assert setup.link() == f"link-{QUARANTINE_AFTER}"
    published = [e for e in logs if e["event"] == "mail published"]
    assert [(e["correlation_id"], e["mailbox"]) for e in published] == [("a", BOX), ("b", BOX)]


def counted(logs: list[MutableMapping[str, Any]]) -> list[int]:
    return [e["failures"] for e in logs if e["event"] == "mail could not be read"]


def test_a_lone_mail_whose_part_graph_cannot_serve_is_quarantined(tmp_path: Path) -> None:
    graph = FakeGraph(inbox={"bad": message("bad")}, parts_poisoned={"bad"})
    setup = make(tmp_path, graph, keep_raw_mime=True)
    with capture_logs() as logs:
        rounds = [setup.poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert [(r.published, r.failed, r.quarantined) for r in rounds if r] == [
        (0, 1, 0),
        (0, 1, 0),
        (0, 0, 1),
    ], "no other mail anywhere: the folder served, the same error each round"
    assert counted(logs) == [1, 2] and graph.moved == [("bad", QUARANTINE)]
    assert graph.folder_reads == QUARANTINE_AFTER
    (entry,) = setup.entries
    assert entry.reason == "unreadable" and entry.failures == QUARANTINE_AFTER
    assert setup.link() == f"link-{QUARANTINE_AFTER}" and setup.poller.status.ok
    assert len(setup.poller.last_errors) == 0, "forgotten once quarantined"


def test_a_lone_mail_graph_cannot_serve_at_all_is_quarantined_by_id(tmp_path: Path) -> None:
    graph = FakeGraph(inbox={"bad": message("bad")}, poisoned={"bad"})
    setup = make(tmp_path, graph)
    poller = setup.poller
    assert poller.poll() is None and poller.poll() is None and poller.ladder.mode == "by_id"
    rounds = [poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert [(r.mode, r.failed, r.quarantined) for r in rounds if r] == [
        ("by_id", 1, 0),
        ("by_id", 1, 0),
        ("by_id", 0, 1),
    ]
    assert graph.moved == [("bad", QUARANTINE)] and setup.published == []
    moved_on = poller.poll()
    assert moved_on is not None and moved_on.complete and moved_on.mode == "small"
    assert setup.link() is not None


def test_two_unreadable_mails_alone_are_both_quarantined(tmp_path: Path) -> None:
    graph = FakeGraph(
        inbox={g: message(g) for g in ("bad-1", "bad-2")}, poisoned={"bad-1", "bad-2"}
    )
    setup = make(tmp_path, graph)
    results = [setup.poller.poll() for _ in range(2 + QUARANTINE_AFTER)]
    assert results[-1] is not None and results[-1].quarantined == 2
    assert sorted(graph.moved) == [("bad-1", QUARANTINE), ("bad-2", QUARANTINE)]
    assert {e.message_id for e in setup.entries} == {"bad-1", "bad-2"}


def test_a_lone_mail_keeps_its_count_when_other_mail_comes_and_goes(tmp_path: Path) -> None:
    graph = FakeGraph(inbox={"bad": message("bad")}, poisoned={"bad"})
    setup = make(tmp_path, graph)
    poller = setup.poller
    with capture_logs() as logs:
        for _ in range(3):  # full pages, small pages, then by id: counted once
            poller.poll()
        graph.inbox["good"] = message("good")
        poller.poll()
        assert setup.ids() == ["good"]
        graph.inbox.pop("good")  # processed and deleted
        last = poller.poll()
    assert counted(logs) == [1, 2], "one count a round, whether other mail is there or not"
    assert last is not None and last.quarantined == 1 and graph.moved == [("bad", QUARANTINE)]


def test_a_lone_mail_failing_otherwise_each_round_starts_its_count_again(tmp_path: Path) -> None:
    graph = FakeGraph(inbox={"bad": message("bad")}, parts_poisoned={"bad"})
    setup = make(tmp_path, graph, keep_raw_mime=True)
    with capture_logs() as logs:
        for status in (500, 502, 504, 500, 502, 504):
            graph.status = status
            result = setup.poller.poll()
            assert result is not None and result.failed == 1
    assert counted(logs) == [1] * 6 and graph.moved == []
    # The same 504 again: the last round's count goes on to the quarantine.
    rounds = [setup.poller.poll() for _ in range(QUARANTINE_AFTER - 1)]
    assert [r.quarantined for r in rounds if r] == [0] * (QUARANTINE_AFTER - 2) + [1]
    assert graph.moved == [("bad", QUARANTINE)]


def test_a_second_lone_mail_is_quarantined_beside_the_first(tmp_path: Path) -> None:
    graph = FakeGraph(inbox={"bad-1": message("bad-1")}, parts_poisoned={"bad-1", "bad-2"})
    setup = make(tmp_path, graph, keep_raw_mime=True)
    for _ in range(QUARANTINE_AFTER):
        setup.poller.poll()
    assert graph.moved == [("bad-1", QUARANTINE)]

    # Still unreadable in the quarantine folder: no neighbour that proves anything.
    graph.inbox["bad-2"] = message("bad-2")
    rounds = [setup.poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert [r.quarantined for r in rounds if r] == [0] * (QUARANTINE_AFTER - 1) + [1]
    assert graph.moved == [("bad-1", QUARANTINE), ("bad-2", QUARANTINE)]


def test_an_unreadable_neighbour_does_not_hide_a_readable_one(tmp_path: Path) -> None:
    graph = FakeGraph(
        inbox={"bad": message("bad")},
        others=["broken-elsewhere", "sent-1"],
        parts_poisoned={"bad", "broken-elsewhere"},
    )
    setup = make(tmp_path, graph, keep_raw_mime=True)
    rounds = [setup.poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert [r.quarantined for r in rounds if r] == [0] * (QUARANTINE_AFTER - 1) + [1]
    assert graph.folder_reads == 0, "a readable neighbour proved it"


@pytest.mark.parametrize("outage", ["folder", "listing"])
def test_a_lone_mail_is_not_blamed_while_the_mailbox_is_not_served(
    tmp_path: Path, outage: str
) -> None:
    graph = FakeGraph(inbox={"bad": message("bad")}, parts_poisoned={"bad"})
    graph.folder_fails = outage == "folder"
    graph.listing_fails = outage == "listing"
    setup = make(tmp_path, graph, keep_raw_mime=True)
    with capture_logs() as logs:
        for _ in range(QUARANTINE_AFTER * 2):
            result = setup.poller.poll()
            assert result is not None and result.failed == 1 and not result.complete
    assert len(setup.poller.failures) == 0 and graph.moved == [], "no proof, no blame"
    assert counted(logs) == []
    assert any(e["event"].startswith("mail could not be read; not counted") for e in logs)

    graph.folder_fails = graph.listing_fails = False
    rounds = [setup.poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert rounds[-1] is not None and rounds[-1].quarantined == 1
    assert graph.moved == [("bad", QUARANTINE)]


@pytest.mark.parametrize("keep_raw_mime", [False, True])
@pytest.mark.parametrize("elsewhere", ["nothing", "mail"])
def test_when_graph_serves_no_mail_none_is_blamed(
    tmp_path: Path, keep_raw_mime: bool, elsewhere: str
) -> None:
    # Graph serves the id listings but no mail: with other mail in the mailbox, its read
    # fails too; with nothing else, the folder read fails too (Graph failing for everything).
    graph = FakeGraph(inbox={f"m{n}": message(f"m{n}") for n in range(5)}, no_mail=True)
    if elsewhere == "mail":
        graph.others.append("sent-1")
    else:
        graph.folder_fails = True
    setup = make(tmp_path, graph, keep_raw_mime=keep_raw_mime)
    for _ in range(QUARANTINE_AFTER * 3):
        assert setup.poller.poll() is None
    assert setup.poller.ladder.mode == "by_id"
    assert len(setup.poller.failures) == 0 and graph.moved == [] and setup.published == []

    graph.no_mail = graph.folder_fails = False
    setup.poller.poll()
    setup.poller.poll()
    assert sorted(setup.ids()) == sorted(graph.inbox) and setup.link() is not None


def test_unpublishable_and_unreadable_mail_go_through_one_seam(tmp_path: Path) -> None:
    graph = FakeGraph(
        inbox={
            "cut": message("cut", subject="Drucker", **UNMAPPABLE),
            "part": message("part"),
            "ok": message("ok"),
        },
        parts_poisoned={"part"},
    )
    setup = make(tmp_path, graph, keep_raw_mime=True)
    for _ in range(QUARANTINE_AFTER):
        setup.poller.poll()
    by_id = {e.message_id: e for e in setup.entries}
    assert set(by_id) == {"cut", "part"} and setup.ids() == ["ok"]
    assert by_id["cut"].reason == "unpublishable" and by_id["cut"].code == "contract_violation"
    assert by_id["cut"].facts.subject == "Drucker"
    assert by_id["part"].reason == "unreadable"
    assert all(e.hint and e.error and e.failures == QUARANTINE_AFTER for e in by_id.values())


def test_a_refused_credential_is_not_asked_again_before_it_is_due(tmp_path: Path) -> None:
    graph = FakeGraph(inbox={"m": message("m")})
    graph.refused = GraphAuthError("refused", status=401, code="AADSTS7000222", hint="renew")
    setup = make(tmp_path, graph)
    now = [0.0]
    setup.poller.credential = CredentialBackoff(1.0, lambda: now[0])
    attempts = 0
    with capture_logs() as logs:
        for second in range(20):
            now[0] = float(second)
            due = setup.poller.credential.due()
            assert setup.poller.poll() is None
            attempts += due
        assert setup.poller.status.detail == "credential refused: AADSTS7000222"
        graph.refused = GraphAuthError("refused", status=401, code="AADSTS7000215", hint="x")
        now[0] = 31.0
        setup.poller.poll()
        graph.refused = None
        now[0] = 63.0
        result = setup.poller.poll()
    assert attempts == 5, "at 0, 1, 3, 7 and 15 s"
    events = [(e["event"], e.get("code")) for e in logs if "credential" in e["event"]]
    assert events == [
        ("credential refused", "AADSTS7000222"),
        ("credential refused", "AADSTS7000215"),  # changed: at once
        ("credential accepted again", None),
    ]
    assert result is not None and result.published == 1 and setup.poller.status.ok


def test_small_pages_still_fill_publish_chunks(tmp_path: Path) -> None:
    graph = FakeGraph(inbox={f"m{n:02}": message(f"m{n:02}") for n in range(30)})
    setup = make(tmp_path, graph, page_size=4)
    result = setup.poller.poll()
    assert result is not None and result.complete and result.published == 30
    assert setup.batches == [20, 10], "mail of several pages published together"
    assert setup.ids() == sorted(graph.inbox)


def test_a_reference_attachment_is_a_link_and_not_published(tmp_path: Path) -> None:
    """Only a ``reference`` without bytes is left out; an empty file is still a file."""
    listed = [
        Attachment("f", "a.txt", "text/plain", 3, False, None, b"abc"),
        Attachment("e", "empty.txt", "text/plain", 0, False, None, b""),
        Attachment("r", "link", "text/html", 0, False, None, b"", kind="reference"),
    ]

    class WithFiles(FakeGraph):
        def get_attachments(self, message_id: str) -> list[Attachment]:
            return listed

    graph = WithFiles(inbox={"m": message("m", has_attachments=True)})
    setup = make(tmp_path, graph)
    setup.poller.poll()
    (email,) = setup.published
    assert [a.name for a in email.attachments] == ["a.txt", "empty.txt"]


def test_a_mail_gone_before_it_is_read_is_counted_as_vanished_not_published(
    tmp_path: Path,
) -> None:
    class Deleted(FakeGraph):
        def get_attachments(self, message_id: str) -> list[Attachment]:
            if message_id == "gone":
                raise GraphNotFound("gone", status=404, code="ErrorItemNotFound", hint="h")
            return []

    graph = Deleted(inbox={"gone": message("gone", has_attachments=True), "ok": message("ok")})
    setup = make(tmp_path, graph)
    result = setup.poller.poll()
    assert result is not None and (result.published, result.vanished) == (1, 1)
    assert setup.ids() == ["ok"] and result.complete and setup.entries == []
