"""``kill -9`` of the ticketer and of the fetcher, several times each at seeded random points,
while 1,000 mails go through; each is restarted at once. Afterwards: no mail lost (every mail
has exactly one outcome, the expected one), no record made twice, no mail taken out of the
inbox before its outcome was committed, and the inboxes empty.

The kill points are chosen by progress (the number of outcomes written so far), so they fall
while mail is being published, handled and removed, wherever the processes happen to be.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.corpus import Corpus
from tests.e2e.harness import Stack, pipeline
from tests.e2e.scenario import (
    Seeded,
    check_outcomes,
    deleted_before_processed,
    first_wave,
    problems_text,
    seed,
)

RECOVERABLE = "recoverableitemsdeletions"
KILLS_EACH = 4


def reached(stack: Stack, outcomes: int) -> Callable[[], bool]:
    return lambda: stack.count("processed_log") >= outcomes


def kill_and_restart(stack: Stack, name: str) -> None:
    stack.kill(name)
    stack.restart(name)
    stack.wait_ready(name)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_kill_9_of_ticketer_and_fetcher_during_1000_mails_loses_and_duplicates_nothing(
    tmp_path: Path, amqp_url: str, database_url: str
) -> None:
    rng = random.Random(1009)
    with pipeline(tmp_path, amqp_url, database_url=database_url, poll_interval_s=0.5) as stack:
        corpus = Corpus(seed=1009, mailboxes=stack.mailboxes)
        mails = first_wave(corpus, 775)
        assert len(mails) == 1000
        # Half the mail waits in the inboxes at the start; the rest arrives during the run.
        seeded: list[Seeded] = seed(stack, mails[:500])
        later = [mails[n : n + 100] for n in range(500, 1000, 100)]
        stack.start("fetcher")
        stack.start("ticketer")
        victims = ["ticketer"] * KILLS_EACH + ["fetcher"] * KILLS_EACH
        rng.shuffle(victims)
        # Never wait for more outcomes than mails seeded by then (100 more after each kill).
        points = [
            min(p, 480 + 100 * k)
            for k, p in enumerate(sorted(rng.sample(range(40, 960), len(victims))))
        ]
        kills: list[tuple[int, str]] = []
        for point, victim in zip(points, victims, strict=True):
            stack.wait_until(reached(stack, point), timeout_s=300, what=f"{point} outcomes")
            kill_and_restart(stack, victim)
            kills.append((stack.count("processed_log"), victim))
            if later:
                seeded += seed(stack, later.pop(0))
        for chunk in later:
            seeded += seed(stack, chunk)
        print(f"kills (outcomes written at the time, process): {kills}")
        stack.wait_until(
            lambda: (
                stack.count("processed_log") == len(seeded)
                and all(stack.folders(box)["inbox"] == 0 for box in stack.mailboxes)
            ),
            timeout_s=400,
            what="every mail handled and the inboxes empty",
        )

        published = sum(e["event"] == "mail published" for e in stack.log_events("fetcher"))
        print(f"{published} InboundEmail published for {len(seeded)} mails")
        assert published >= len(seeded)
        assert len(seeded) == 1000
        outcomes = check_outcomes(stack, seeded)
        assert not outcomes.problems, problems_text(outcomes.problems)
        log = stack.processed_log()
        assert len(log) == len(seeded)
        stored = Counter(
            (m["mailbox"], m["internet_message_id"]) for m in stack.rows("record_messages")
        )
        assert max(stored.values()) == 1
        assert deleted_before_processed(stack, seeded) == []
        for box in stack.mailboxes:
            assert stack.folders(box)["inbox"] == 0
            recoverable = {m["id"] for m in stack.folder_messages(RECOVERABLE, box)}
            assert {s.graph_id for s in seeded if s.mail.mailbox == box} <= recoverable
        assert Counter(v for _, v in kills) == {"ticketer": KILLS_EACH, "fetcher": KILLS_EACH}
