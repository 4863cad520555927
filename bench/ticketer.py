"""``python -m bench.ticketer``: the ticketer's whole inbound path, in process: CPU
milliseconds per email from the InboundEmail's bytes as the broker hands them over to its
messages serialised for the broker, against a fresh database per round.

The mail is the benchmark's corpus as the fetcher builds it: seeded into the Graph simulator
and read by one delta round of the fetcher's own code (attachments in a blob folder), each
InboundEmail kept as the bytes it would publish. The simulator is stopped before anything is
measured. Then, each round, a fresh database and a fresh ticketer: batches of 20 go through
the consumer's own work step (:class:`libs.common.broker.work.Work`: parsing, the handler,
the outcomes) into ``Ticketer.handle_batch``, whose effects reach a broker stub that does
what ``Broker.publish_many`` does before the wire (properties, JSON) and drops them; log
lines are rendered as in production, written to nowhere. Requester lookups answer "not in the
tenant" without a request (cached as in production). Not counted: the broker's framing,
acks, the database server's own CPU. One line of JSON on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.corpus import make_corpus
from bench.database import fresh_database, statements
from bench.fetch import _mailbox
from bench.sim import UNLIMITED_BUDGET, start_simulator
from libs.common.blobs import BlobStore
from libs.common.broker.names import Names
from libs.common.broker.policy import ACKED, Delivery
from libs.common.broker.publisher import properties_for
from libs.common.broker.routes import Publication
from libs.common.broker.work import Work
from libs.common.contracts import InboundEmail
from libs.common.logging import configure_logging
from libs.common.mail import DirectoryUser, MailNotFound
from libs.common.settings import MailpipeConfig, load_config
from services.fetcher.builder import MailBuilder
from services.fetcher.flow import MailFlow
from services.fetcher.inflight import InFlight
from services.fetcher.quarantine import Quarantiner
from services.fetcher.unpublishable import FailureCounts
from services.ticketer.handler import Ticketer
from services.ticketer.publishing import BrokerOutbox
from services.ticketer.requesters import RequesterDirectory
from services.ticketer.store import RecordStore

BOX = "bench1@contoso.com"
BATCH = 20
#: Mails handled before a round is measured (connections, compiled statements, caches).
WARM = 2 * BATCH


class _Wire:
    """The broker as the outbox sees it: ``publish_many`` prepares each message as the real
    one does before its frames (properties, JSON body) and drops it."""

    def __init__(self) -> None:
        self.names = Names()
        self.published = 0

    def publish_many(self, publications: Sequence[Publication]) -> list[str]:
        ids = []
        for pub in publications:
            properties = properties_for(pub.message, pub.correlation_id)
            pub.message.to_json()
            ids.append(str(properties["message_id"]))
        self.published += len(ids)
        return ids


def _not_in_tenant(mailbox: str, address: str) -> DirectoryUser:
    raise MailNotFound("no such user")


def capture(emails: int, work: Path) -> tuple[MailpipeConfig, list[bytes]]:
    """The pipeline's configuration and ``emails`` InboundEmails as the fetcher publishes
    them (their attachments in ``work / "blobs"``)."""
    (work / "logs").mkdir(exist_ok=True)
    sim = start_simulator(work, [BOX])
    bodies: list[bytes] = []
    try:
        sim.faults(**UNLIMITED_BUDGET)
        sim.seed(make_corpus(emails, [BOX]), lambda n: None)
        box, graph = _mailbox(sim, work)
        builder = MailBuilder(box, graph, BlobStore(work / "blobs"))

        def publish(mails: list[InboundEmail]) -> None:
            bodies.extend(mail.to_json() for mail in mails)

        flow = MailFlow(
            box, graph, builder, publish, InFlight(), FailureCounts(), Quarantiner(box, graph)
        )
        for page in graph.iter_delta(box.folder, None, view="full", page_size=100):
            fresh, _ = flow.fresh(page.messages)
            flow.run(fresh)
        graph.close()
    finally:
        sim.child.stop(timeout_s=5.0)
    if len(bodies) != emails:
        raise RuntimeError(f"{len(bodies)} of {emails} mails built")
    return load_config(work / "mailpipe.toml"), bodies


def _deliveries(bodies: list[bytes]) -> list[tuple[bytes, Delivery]]:
    return [
        (b, Delivery(message_id=f"amqp-{n}", correlation_id=f"m-{n}")) for n, b in enumerate(bodies)
    ]


def _run(work: Work[InboundEmail], items: list[tuple[bytes, Delivery]]) -> float:
    """CPU seconds of handling ``items`` in batches; every one must be acked."""
    started = time.process_time()
    for i in range(0, len(items), BATCH):
        outcomes = work(items[i : i + BATCH])
        if any(o != ACKED for o in outcomes):
            raise RuntimeError(f"a batch was not acked: {outcomes}")
    return time.process_time() - started


def one_round(
    database: str, config: MailpipeConfig, bodies: list[bytes], blobs: Path
) -> dict[str, float]:
    """A fresh database and ticketer: CPU s and statements of the new mail, then again of
    its redelivery."""
    items = _deliveries(bodies)
    with tempfile.TemporaryDirectory() as scratch, fresh_database(database, Path(scratch)) as url:
        store = RecordStore.open(url)
        wire = _Wire()
        ticketer = Ticketer(
            store,
            BlobStore(blobs),
            BrokerOutbox(wire),  # type: ignore[arg-type]  # the stub has what it uses
            config,
            requesters=RequesterDirectory(store, _not_in_tenant),
        )
        work = Work(wire.names.ticketer, InboundEmail, ticketer.handle_batch, None, None)
        try:
            _run(work, items[:WARM])
            with statements(store.engine) as seen:
                cpu_new = _run(work, items[WARM:])
            new = seen[0]
            with statements(store.engine) as seen:
                cpu_again = _run(work, items[WARM:])
            again = seen[0]
        finally:
            store.close()
    return {"cpu_new": cpu_new, "new": new, "cpu_again": cpu_again, "again": again}


def measure(database: str, emails: int, rounds: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mailpipe-bench-ticketer-"))
    try:
        config, bodies = capture(emails + WARM, work)
        runs = [one_round(database, config, bodies, work / "blobs") for _ in range(rounds)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    new = [r["cpu_new"] * 1000 / emails for r in runs]
    again = [r["cpu_again"] * 1000 / emails for r in runs]
    return {
        "database": database,
        "emails": emails,
        "rounds": rounds,
        "cpu_ms_per_email": round(statistics.median(new), 3),
        "cpu_ms_per_email_rounds": [round(c, 3) for c in new],
        "statements_per_email": round(runs[-1]["new"] / emails, 2),
        "redelivered_cpu_ms_per_email": round(statistics.median(again), 3),
        "redelivered_statements_per_email": round(runs[-1]["again"] / emails, 2),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ticketer", description=__doc__.split("\n")[0])
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    p.add_argument("--emails", type=int, default=1000, help="measured emails (default 1000)")
    p.add_argument("--rounds", type=int, default=3, help="rounds, each on a fresh database")
    a = p.parse_args(argv)
    with open(os.devnull, "w") as nowhere, contextlib.redirect_stdout(nowhere):
        configure_logging("ticketer", "INFO")
        result = measure(a.database, max(a.emails, 1), max(a.rounds, 1))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
