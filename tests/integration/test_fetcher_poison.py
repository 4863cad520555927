"""A mail the fetcher can never publish, against the simulator and a real RabbitMQ: the good
mails around it are published and processed, the bad one is moved to the quarantine folder
after N rounds (nothing published for it), the delta link advances and later mail is still
fetched.

The mapping is lenient about everything Graph sends in practice (a subject Graph cut inside a
UTF-16 surrogate pair is cleaned: see the last test), so the bad mail here carries what no
InboundEmail can: a received time before the year 1 in UTC. The simulator cannot serve that,
so a transport between the real Graph client and the simulator puts it on the delta page of
the mail whose seeded subject has a marker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from libs.common.graph import GraphMail
from libs.common.mail import Mailbox
from libs.graphsim.testing import SimHandle
from services.fetcher.service import Fetcher
from services.fetcher.unpublishable import QUARANTINE_AFTER
from tests.integration.fetcher_rig import SUPPORT, Rig, mail, open_rig, until

RECOVERABLE = "recoverableitemsdeletions"
QUARANTINE = "mailpipe-quarantine"
MARKER = "CUT-SURROGATE-HERE"


class Unmappable(httpx.BaseTransport):
    """Delta pages on which the mail whose subject holds ``MARKER`` has a received time no
    contract can carry; with ``surrogate``, its subject instead ends in a lone high surrogate
    escape (the first half of an emoji whose second half was cut off), as Exchange sometimes
    sends it."""

    def __init__(self, sim: SimHandle, *, surrogate: bool = False) -> None:
        self._inner = httpx.HTTPTransport(verify=sim.ssl_context())
        self._surrogate = surrogate

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if not request.url.path.endswith("/delta"):
            return response
        body = self._rewrite(response.read())
        response.close()
        headers = [
            (k, v)
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")
        ]
        return httpx.Response(response.status_code, headers=headers, content=body)

    def _rewrite(self, body: bytes) -> bytes:
        if self._surrogate:
            return body.replace(MARKER.encode(), b"\\ud83d")
        page = json.loads(body)
        for message in page.get("value", []):
            if MARKER in str(message.get("subject", "")):
                message["receivedDateTime"] = "0001-01-01T00:30:00+01:00"
        return json.dumps(page).encode()

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def rig(sim: SimHandle, amqp_url: str, namespace: str, tmp_path: Path) -> Iterator[Rig]:
    database_url = f"sqlite:///{tmp_path / 'state.db'}"
    with open_rig(sim, amqp_url, namespace, database_url, tmp_path / "blobs") as made:
        yield made


def cutting_fetcher(rig: Rig, *, surrogate: bool = False) -> Fetcher:
    config = rig.config()
    graphs: dict[str, Mailbox] = {
        box.address: GraphMail(
            config.graph, box, transport=Unmappable(rig.sim, surrogate=surrogate)
        )
        for box in config.mailboxes
    }
    fetcher = Fetcher(config, rig.broker, rig.state, rig.blobs, graphs=graphs)
    rig.made.append(fetcher)
    return fetcher


def quarantined_total() -> float:
    value = REGISTRY.get_sample_value(
        "mailpipe_fetcher_quarantined_unpublishable_total", {"mailbox": SUPPORT}
    )
    return value or 0.0


def test_an_unpublishable_mail_is_quarantined_and_the_mailbox_moves_on(rig: Rig) -> None:
    good = [rig.seed(mail(n)) for n in (1, 2)]
    bad = rig.seed(mail(3, subject=f"Drucker {MARKER}"))
    good.append(rig.seed(mail(4)))
    fetcher = cutting_fetcher(rig)
    (poller,) = [p for p in fetcher.pollers if p.address == SUPPORT]
    before = quarantined_total()

    published = []
    for _ in range(QUARANTINE_AFTER - 1):
        result = poller.poll()
        assert result is not None and result.failed == 1 and not result.complete
        assert rig.state.get_cursor(SUPPORT, "inbox") is None
        published += rig.inbound()
    assert sorted(e.message_id for e in published) == sorted(good), "each good mail once"
    assert rig.folders().get(QUARANTINE, 0) == 0, "not quarantined before N rounds"

    with rig.consuming_processed(fetcher):
        for email in published:
            rig.processed(email)
        until(lambda: rig.folders().get(RECOVERABLE) == 3)

    last = poller.poll()
    assert last is not None and last.complete and last.quarantined == 1
    assert rig.inbound() == [], "nothing is published for the quarantined mail"
    assert quarantined_total() - before == 1
    folders = rig.folders()
    assert folders["inbox"] == 0 and folders[QUARANTINE] == 1 and folders[RECOVERABLE] == 3
    (kept,) = rig.sim_messages(QUARANTINE)
    assert kept["id"] == bad
    assert rig.state.get_cursor(SUPPORT, "inbox") is not None, "the link advanced"
    assert poller.status.ok

    new = rig.seed(mail(5, subject="after the quarantine"))
    later = poller.poll()
    assert later is not None and later.complete and later.published == 1 and later.failed == 0
    (email,) = rig.inbound()
    assert email.message_id == new and email.subject == "after the quarantine"


def test_a_restart_does_not_read_the_quarantined_mail_again(rig: Rig) -> None:
    bad = rig.seed(mail(1, subject=f"Kaffee {MARKER}"))
    first = cutting_fetcher(rig).pollers[0]
    assert first.address == SUPPORT
    results = [first.poll() for _ in range(QUARANTINE_AFTER)]
    assert [r.quarantined if r else None for r in results][-1] == 1
    assert rig.sim_messages(QUARANTINE)[0]["id"] == bad

    restarted = cutting_fetcher(rig).pollers[0]  # empty counts, same delta state
    good = rig.seed(mail(2))
    result = restarted.poll()
    assert result is not None and result.complete and result.published == 1
    assert [e.message_id for e in rig.inbound()] == [good]
    assert rig.folders()[QUARANTINE] == 1


def test_a_subject_graph_cut_inside_an_emoji_is_cleaned_not_quarantined(rig: Rig) -> None:
    """A lone surrogate in a subject used to make the mail unpublishable; the fetcher now
    cleans it, so the mail becomes a record like any other."""
    cut = rig.seed(mail(1, subject=f"Drucker {MARKER}"))
    poller = cutting_fetcher(rig, surrogate=True).pollers[0]
    result = poller.poll()
    assert result is not None and result.complete and result.published == 1
    (email,) = rig.inbound()
    assert email.message_id == cut and email.subject.startswith("Drucker")
    assert rig.folders().get(QUARANTINE, 0) == 0
