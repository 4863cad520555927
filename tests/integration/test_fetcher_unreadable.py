"""Mail Graph cannot serve, against the simulator (its ``poisoned`` fault knob), a real
RabbitMQ and SQLite / PostgreSQL: the fetcher narrows its reads (small delta pages, then an
id-only listing read mail by mail), publishes every other mail once, moves the unreadable one
by id to the quarantine folder after N rounds with its reason, and the delta link moves on —
also when it is alone in the mailbox (the folder served, the same error each round). When
Graph fails for every mail (throttled, no mail and no folder served, or every mail of the
mailbox failing) nothing is quarantined and the mail flows once Graph is back. An expired
secret backs off and logs rarely."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from libs.common.graph import GraphMail, GraphUnavailable
from libs.common.mail import MailMessage
from libs.common.settings import MailpipeConfig
from libs.graphsim.testing import SimHandle
from services.fetcher.credential import CredentialBackoff
from services.fetcher.poller import MailboxPoller
from services.fetcher.service import Fetcher
from services.fetcher.unpublishable import QUARANTINE_AFTER
from tests.integration.fetcher_rig import SUPPORT, Rig, mail, until

QUARANTINE = "mailpipe-quarantine"
PDF = b"%PDF-1.4 fake pdf \x00\x01\x02" * 50


def fast(rig: Rig, **mailbox: Any) -> MailpipeConfig:
    """The simulator's config with a retry budget of 1 s, so failing reads give up soon."""
    config = rig.config(**mailbox)
    graph = config.graph.model_copy(update={"max_retry_s": 1.0})
    return config.model_copy(update={"graph": graph})


def faults(rig: Rig, **knobs: Any) -> dict[str, Any]:
    with rig.sim.control() as control:
        answer = control.post("/_sim/faults", json=knobs)
    answer.raise_for_status()
    return dict(answer.json())


def poller_of(fetcher: Fetcher) -> MailboxPoller:
    (poller,) = [p for p in fetcher.pollers if p.address == SUPPORT]
    return poller


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"mailbox": SUPPORT}) or 0.0


# -- the simulator's knob -----------------------------------------------------------------


def test_the_simulator_fails_every_read_that_serves_a_poisoned_message(lite: Rig) -> None:
    good = lite.seed(mail(1))
    bad = lite.seed(mail(2, attachments=[("a.pdf", "application/pdf", PDF)]))
    assert faults(lite, poisoned={bad: 500})["poisoned"][bad]["status"] == 500
    config = fast(lite)
    with GraphMail(config.graph, config.mailbox(SUPPORT)) as graph:
        reads = {
            "get": lambda: graph.get_message(bad),
            "$value": lambda: graph.get_mime(bad),
            "attachments": lambda: graph.get_attachments(bad),
            "delta": lambda: graph.delta("inbox"),
            "list": lambda: graph.list_messages("inbox"),
        }
        for what, read in reads.items():
            with pytest.raises(GraphUnavailable) as info:
                read()
            err = info.value
            assert (err.status, err.code) == (500, "ErrorInternalServerError"), what
            assert err.request_id, f"{what}: a Graph error body with its request id"
        assert {m.id for m in graph.list_messages("inbox", view="id")} == {good, bad}
        many = graph.get_messages_many([good, bad], view="summary")
        first = many[good]
        assert isinstance(first, MailMessage) and first.subject == "Request 1"
        assert isinstance(many[bad], GraphUnavailable)
        graph.move(bad, QUARANTINE)  # writes are served: it can be moved away by id
        assert [m.id for m in graph.delta("inbox").messages] == [good]
    faults(lite, poisoned={})
    with GraphMail(config.graph, config.mailbox(SUPPORT)) as graph:
        assert graph.get_message(bad).subject == "Request 2"
    with lite.sim.control() as control:
        assert control.post("/_sim/faults", json={"poisoned": {bad: 200}}).status_code == 400


def test_the_simulator_can_fail_everything_of_a_mailbox_but_its_ids(lite: Rig) -> None:
    old = lite.seed(mail(1))
    faults(lite, poisoned={"*": 500})
    new = lite.seed(mail(2))  # mail that arrives meanwhile fails too
    config = fast(lite)
    with GraphMail(config.graph, config.mailbox(SUPPORT)) as graph:
        for what, read in {
            "get": lambda: graph.get_message(new),
            "$value": lambda: graph.get_mime(old),
            "list": lambda: graph.list_messages("inbox"),
            "folder": lambda: graph.get_folder("inbox"),
        }.items():
            with pytest.raises(GraphUnavailable) as info:
                read()
            assert info.value.status == 500, what
        assert {m.id for m in graph.list_messages("inbox", view="id")} == {old, new}
    faults(lite, poisoned={})
    with GraphMail(config.graph, config.mailbox(SUPPORT)) as graph:
        assert graph.get_folder("inbox").total_count == 2


# -- a message Graph cannot serve ---------------------------------------------------------


def test_a_message_graph_cannot_serve_is_quarantined_and_the_mailbox_flows_on(rig: Rig) -> None:
    before = [rig.seed(mail(n)) for n in range(1, 13)]
    bad = rig.seed(mail(13, subject="Graph cannot render me"))
    after = [rig.seed(mail(n)) for n in range(14, 19)]
    faults(rig, poisoned={bad: 500})
    fetcher = rig.fetcher(fast(rig))
    poller = poller_of(fetcher)
    quarantined_before = sample("mailpipe_fetcher_quarantined_unreadable_total")

    with capture_logs() as logs:
        assert poller.poll() is None, "one page of 100 holds the bad message"
        assert poller.ladder.mode == "small" and rig.inbound() == []
        assert poller.poll() is None, "small pages: the page with the bad message fails"
        first = rig.inbound()
        assert [e.message_id for e in first] == before[:10], "the pages before it got through"
        assert poller.ladder.mode == "by_id"
        rounds = [poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert all(r is not None and r.mode == "by_id" for r in rounds)
    assert [r.quarantined for r in rounds if r] == [0] * (QUARANTINE_AFTER - 1) + [1]
    assert rounds[0] is not None and rounds[0].published == len(before[10:] + after)
    assert rounds[-1] is not None and rounds[-1].complete
    rest = rig.inbound()
    assert sorted(e.message_id for e in first + rest) == sorted(before + after), "each once"
    assert [m["id"] for m in rig.sim_messages(QUARANTINE)] == [bad]
    assert rig.folders()["inbox"] == len(before + after)
    assert sample("mailpipe_fetcher_quarantined_unreadable_total") - quarantined_before == 1
    (moved,) = [e for e in logs if e["event"] == "unreadable mail moved to quarantine"]
    assert moved["correlation_id"] == bad and moved["reason"] == "unreadable"
    assert moved["code"] == "ErrorInternalServerError" and "request-id" in moved["error"]
    assert moved["failures"] == QUARANTINE_AFTER and QUARANTINE in moved["action"]
    narrowed = [
        e for e in logs if e["event"] == "delta read keeps failing; the next rounds read narrower"
    ]
    assert [e["mode"] for e in narrowed] == ["small", "by_id"]
    assert rig.state.get_cursor(SUPPORT, "inbox") is None

    moved_on = poller.poll()
    assert moved_on is not None and moved_on.complete and moved_on.mode == "small"
    assert moved_on.published == 0 and moved_on.skipped_in_flight == len(before + after)
    assert rig.state.get_cursor(SUPPORT, "inbox") is not None, "the link advanced"
    assert poller.status.ok and rig.inbound() == []

    with rig.consuming_processed(fetcher):
        for email in first + rest:
            rig.processed(email)
        until(lambda: rig.folders().get("inbox") == 0)
    new = rig.seed(mail(30, subject="after the quarantine"))
    later = poller.poll()
    assert later is not None and later.complete and later.published == 1
    assert [e.message_id for e in rig.inbound()] == [new]


def test_a_mail_whose_mime_graph_cannot_serve_is_quarantined_by_id(lite: Rig) -> None:
    good = [lite.seed(mail(n)) for n in (1, 2)]
    bad = lite.seed(mail(3, attachments=[("a.pdf", "application/pdf", PDF)]))
    good.append(lite.seed(mail(4)))
    faults(lite, poisoned={bad: {"status": 502, "code": "BadGateway", "parts_only": True}})
    poller = poller_of(lite.fetcher(fast(lite, keep_raw_mime=True)))

    rounds = [poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert all(r is not None and r.mode == "full" for r in rounds), "delta itself is served"
    assert [(r.published, r.failed, r.quarantined) for r in rounds if r] == [
        (3, 1, 0),
        (0, 1, 0),
        (0, 0, 1),
    ]
    assert sorted(e.message_id for e in lite.inbound()) == sorted(good)
    assert [m["id"] for m in lite.sim_messages(QUARANTINE)] == [bad]
    assert lite.state.get_cursor(SUPPORT, "inbox") is not None
    assert poller.status.ok


def narrowed_to_by_id(poller: MailboxPoller) -> None:
    """The two rounds whose delta page fails (full, then small pages)."""
    assert poller.poll() is None and poller.ladder.mode == "small"
    assert poller.poll() is None and poller.ladder.mode == "by_id"


@pytest.mark.parametrize("alone", [1, 2])
def test_messages_graph_cannot_serve_alone_in_the_mailbox_are_quarantined(
    rig: Rig, alone: int
) -> None:
    bad = [rig.seed(mail(n, subject="Graph cannot render me")) for n in range(1, alone + 1)]
    faults(rig, poisoned=bad)
    assert sum(rig.folders().values()) == alone, "nothing else in the mailbox"
    poller = poller_of(rig.fetcher(fast(rig)))

    with capture_logs() as logs:
        narrowed_to_by_id(poller)
        rounds = [poller.poll() for _ in range(QUARANTINE_AFTER)]
    assert [(r.mode, r.failed, r.quarantined) for r in rounds if r] == [
        ("by_id", alone, 0),
        ("by_id", alone, 0),
        ("by_id", 0, alone),
    ], "no other mail anywhere: the folder is served and each round fails the same way"
    assert sorted(m["id"] for m in rig.sim_messages(QUARANTINE)) == sorted(bad)
    assert rig.folders()["inbox"] == 0 and rig.inbound() == []
    moved = [e for e in logs if e["event"] == "unreadable mail moved to quarantine"]
    assert sorted(e["correlation_id"] for e in moved) == sorted(bad)
    assert all(e["failures"] == QUARANTINE_AFTER and "request-id" in e["error"] for e in moved)

    moved_on = poller.poll()
    assert moved_on is not None and moved_on.complete and moved_on.mode == "small"
    assert rig.state.get_cursor(SUPPORT, "inbox") is not None and poller.status.ok


def test_lone_unreadable_mails_one_after_another_are_each_quarantined(lite: Rig) -> None:
    # The first stays unreadable in the quarantine folder: it must not stand for an outage.
    poller = poller_of(lite.fetcher(fast(lite, keep_raw_mime=True)))
    poisoned: dict[str, Any] = {}
    for n in (1, 2):
        bad = lite.seed(mail(n, subject="Graph cannot render my MIME"))
        poisoned = dict.fromkeys(poisoned, 500) | {bad: {"parts_only": True}}
        faults(lite, poisoned=poisoned)
        rounds = [poller.poll() for _ in range(QUARANTINE_AFTER)]
        assert [(r.failed, r.quarantined) for r in rounds if r] == [(1, 0), (1, 0), (0, 1)]
        assert lite.folders()["inbox"] == 0
    assert sorted(m["id"] for m in lite.sim_messages(QUARANTINE)) == sorted(poisoned)
    assert lite.inbound() == [] and lite.state.get_cursor(SUPPORT, "inbox") is not None


def test_a_lone_unreadable_mail_is_quarantined_while_other_mail_comes_and_goes(
    lite: Rig,
) -> None:
    bad = lite.seed(mail(1, subject="Graph cannot render me"))
    faults(lite, poisoned=[bad])
    fetcher = lite.fetcher(fast(lite))
    poller = poller_of(fetcher)
    narrowed_to_by_id(poller)
    first = poller.poll()
    assert first is not None and first.failed == 1 and poller.failures.get(bad) == 1

    good = lite.seed(mail(2, subject="a readable one"))
    second = poller.poll()
    assert second is not None and second.published == 1 and poller.failures.get(bad) == 2
    (email,) = lite.inbound()
    with lite.consuming_processed(fetcher):
        lite.processed(email)
        until(lambda: lite.folders().get("inbox") == 1)  # the good one deleted, bad alone
    assert email.message_id == good

    third = poller.poll()
    assert third is not None and third.quarantined == 1
    assert [m["id"] for m in lite.sim_messages(QUARANTINE)] == [bad]
    assert lite.folders()["inbox"] == 0


@pytest.mark.parametrize("outage", ["throttled", "no_mail_served", "every_mail_fails"])
def test_when_graph_fails_for_every_mail_nothing_is_quarantined(lite: Rig, outage: str) -> None:
    ids = [lite.seed(mail(n)) for n in range(1, 5)]
    if outage == "throttled":
        faults(lite, error_ratio=1.0, retry_after_s=1)  # 503 with Retry-After, everywhere
    elif outage == "no_mail_served":
        faults(lite, poisoned={"*": 500})  # no mail, no folder: only the ids are served
    else:  # every mail of the mailbox fails, the one in Sent Items too: nothing proves a mail
        sent = lite.seed(mail(9, subject="an answer we sent"), folder="sentitems")
        faults(lite, poisoned=[*ids, sent])
    poller = poller_of(lite.fetcher(fast(lite)))

    for _ in range(QUARANTINE_AFTER * 3):
        assert poller.poll() is None
    assert lite.folders().get(QUARANTINE, 0) == 0 and lite.inbound() == []
    assert len(poller.failures) == 0, "no mail was blamed"
    assert not poller.status.ok
    assert poller.ladder.mode == ("full" if outage == "throttled" else "by_id")

    faults(lite, error_ratio=0.0, poisoned={})
    results = [poller.poll() for _ in range(2)]
    assert sorted(e.message_id for e in lite.inbound()) == sorted(ids), "each once, once healed"
    assert results[-1] is not None and results[-1].complete
    assert lite.state.get_cursor(SUPPORT, "inbox") is not None
    assert lite.folders().get(QUARANTINE, 0) == 0


# -- a refused credential -----------------------------------------------------------------


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def register_app(sim: SimHandle, client_id: str, secret: str) -> None:
    with sim.control() as control:
        control.post(
            "/_sim/apps",
            json={"tenant_id": sim.tenant_id, "client_id": client_id, "client_secret": secret},
        ).raise_for_status()


def test_an_expired_secret_backs_off_logs_rarely_and_recovers(lite: Rig) -> None:
    sim = lite.sim
    # An app of this test's own: no token of it is cached from an earlier test.
    client_id, secret = str(uuid.uuid4()), "expiring-secret~" + uuid.uuid4().hex
    register_app(sim, client_id, secret)
    lite.seed(mail(1))
    lite.control_post(f"/_sim/apps/{sim.tenant_id}/{client_id}/expire-secret")
    fetcher = lite.fetcher(
        lite.config(poll_interval_s=1, client_id=client_id, client_secret=secret)
    )
    poller = poller_of(fetcher)
    ticks = Ticks()
    poller.credential = CredentialBackoff(1.0, ticks)
    check = fetcher.checks()[f"mailbox:{SUPPORT}"]

    attempted_at = []
    with capture_logs() as logs:
        for second in range(600):  # ten minutes at a 1 s poll interval
            ticks.now = float(second)
            before = sample("mailpipe_fetcher_graph_auth_failures_total")
            assert poller.poll() is None
            if sample("mailpipe_fetcher_graph_auth_failures_total") > before:
                attempted_at.append(second)
            assert check() == (False, "credential refused: AADSTS7000222")
    assert attempted_at == [0, 1, 3, 7, 15, 31, 63, 127, 255, 511], "doubling, at most 5 min"
    refused = [e for e in logs if e["event"] == "credential refused"]
    assert 1 <= len(refused) <= 11, "at most one line a minute while nothing changes"
    assert all(e["log_level"] == "error" and e["code"] == "AADSTS7000222" for e in refused)
    assert all(secret not in str(e) for e in logs)

    register_app(sim, client_id, secret)  # the secret renewed
    with capture_logs() as logs:
        ticks.now = 600.0
        assert poller.poll() is None, "not due yet: the backoff holds"
        ticks.now = 811.0
        result = poller.poll()
    assert result is not None and result.complete and result.published == 1
    accepted = [e for e in logs if e["event"] == "credential accepted again"]
    assert len(accepted) == 1 and accepted[0]["log_level"] == "info"
    assert accepted[0]["refusals"] == len(attempted_at)
    assert check() == (True, "ok")
