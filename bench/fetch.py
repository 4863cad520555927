"""``python -m bench.fetch``: the fetcher's read-and-build path alone, in process, against the
Graph simulator (its own process, so its CPU is not counted): CPU milliseconds per email of
a whole delta round as the poller runs it — delta pages read and decoded, attachments listed
by ``$batch`` and put in a blob folder, each ``InboundEmail`` built, serialised and handed to
the publish step (which serialises it as the broker's ``publish_many`` does, and drops it),
one ``mail published`` log line each (rendered as in production, written to nowhere).

No broker: its framing is measured with the rest by ``python -m bench``. The same mails are
read ``--rounds`` times (after one warm-up round: token, connections, blobs written), so the
blob puts of the measured rounds find their blobs there. One line of JSON on stdout.
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
from pathlib import Path
from typing import Any

from bench.corpus import make_corpus
from bench.sim import UNLIMITED_BUDGET, Simulator, start_simulator, write_pipeline_config
from libs.common.blobs import BlobStore
from libs.common.contracts import InboundEmail
from libs.common.logging import configure_logging
from libs.common.mail import Mailbox, open_mailbox
from libs.common.settings import MailboxConfig, load_config
from services.fetcher.builder import MailBuilder
from services.fetcher.flow import MailFlow
from services.fetcher.inflight import InFlight
from services.fetcher.quarantine import Quarantiner
from services.fetcher.unpublishable import FailureCounts

BOX = "bench1@contoso.com"


def _round(box: MailboxConfig, graph: Mailbox, builder: MailBuilder) -> tuple[float, int]:
    """CPU seconds of one full delta round of the folder, and how many mails it published."""
    published = 0

    def publish(emails: list[InboundEmail]) -> None:
        nonlocal published
        for email in emails:
            email.to_json()  # what Broker.publish_many puts on the wire
        published += len(emails)

    flow = MailFlow(
        box, graph, builder, publish, InFlight(), FailureCounts(), Quarantiner(box, graph)
    )
    started = time.process_time()
    for page in graph.iter_delta(box.folder, None, view="full", page_size=100):
        fresh, _ = flow.fresh(page.messages)
        flow.run(fresh)
    return time.process_time() - started, published


def _mailbox(sim: Simulator, work: Path) -> tuple[MailboxConfig, Mailbox]:
    config_path = work / "mailpipe.toml"
    write_pipeline_config(sim, config_path)
    config = load_config(config_path)
    box = config.mailboxes[0]
    return box, open_mailbox(config, box)


def measure(emails: int, rounds: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mailpipe-bench-fetch-"))
    (work / "logs").mkdir()
    sim = start_simulator(work, [BOX])
    try:
        sim.faults(**UNLIMITED_BUDGET)
        sim.seed(make_corpus(emails, [BOX]), lambda n: None)
        box, graph = _mailbox(sim, work)
        builder = MailBuilder(box, graph, BlobStore(work / "blobs"))
        cpu: list[float] = []
        for n in range(rounds + 1):
            seconds, published = _round(box, graph, builder)
            if published != emails:
                raise RuntimeError(f"round {n}: {published} of {emails} mails published")
            if n:  # the first round warms up (token, connections, blobs written)
                cpu.append(seconds * 1000 / emails)
        graph.close()
    finally:
        sim.child.stop(timeout_s=5.0)  # it waits for the client's idle keep-alive otherwise
        shutil.rmtree(work, ignore_errors=True)
    return {
        "emails": emails,
        "rounds": rounds,
        "cpu_ms_per_email": round(statistics.median(cpu), 3),
        "cpu_ms_per_email_rounds": [round(c, 3) for c in cpu],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fetch", description=__doc__.split("\n")[0])
    p.add_argument("--emails", type=int, default=1000, help="emails seeded (default 1000)")
    p.add_argument("--rounds", type=int, default=5, help="measured rounds (default 5)")
    a = p.parse_args(argv)
    # The log lines are rendered as the fetcher renders them, then dropped.
    with open(os.devnull, "w") as nowhere, contextlib.redirect_stdout(nowhere):
        configure_logging("fetcher", "INFO")
        result = measure(max(a.emails, 1), max(a.rounds, 1))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
