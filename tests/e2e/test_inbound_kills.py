"""``kill -9`` of the ticketer and of the fetcher, several times each at seeded random points,
while 1,000 mails go through; each is restarted at once. Afterwards: no mail lost (every mail
has exactly one outcome, the expected one), no record made twice, no mail taken out of the
inbox before its outcome was committed, and the inboxes empty. On both providers (the
``provider`` fixture).

Mail keeps arriving during the run (100 more before each kill). The kill points are chosen by
progress: the fetcher dies a random number of publishes after new mail arrived, the ticketer a
random number of outcomes after the last kill, wherever the processes happen to be then.
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
from tests.e2e.worlds import HEAVY_MATRIX

KILLS_EACH = 4


def reached(stack: Stack, outcomes: int) -> Callable[[], bool]:
    return lambda: stack.count("processed_log") >= outcomes


def published(stack: Stack) -> int:
    """InboundEmail the fetcher published, over all its runs (its log is kept across them)."""
    return sum(e["event"] == "mail published" for e in stack.log_events("fetcher"))


def publishes(stack: Stack, count: int) -> Callable[[], bool]:
    return lambda: published(stack) >= count


def kill_and_restart(stack: Stack, name: str) -> None:
    stack.kill(name)
    stack.restart(name)
    stack.wait_ready(name)


@pytest.mark.parametrize(("database_url", "provider"), HEAVY_MATRIX, indirect=True)
def test_kill_9_of_ticketer_and_fetcher_during_1000_mails_loses_and_duplicates_nothing(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str
) -> None:
    rng = random.Random(1009)
    # The simulator answers after 20 ms, so a round of new mail takes long enough to be
    # interrupted.
    with pipeline(
        tmp_path,
        amqp_url,
        database_url=database_url,
        provider=provider,
        faults={"latency_ms": 20},
        poll_interval_s=0.5,
    ) as stack:
        corpus = Corpus(seed=1009, mailboxes=stack.mailboxes)
        mails = first_wave(corpus, 775)
        assert len(mails) == 1000
        # 200 mails wait in the inboxes at the start; 100 more arrive before each kill.
        seeded: list[Seeded] = seed(stack, mails[:200])
        later = [mails[n : n + 100] for n in range(200, 1000, 100)]
        stack.start("fetcher")
        stack.start("ticketer")
        victims = ["ticketer"] * KILLS_EACH + ["fetcher"] * KILLS_EACH
        rng.shuffle(victims)
        kills: list[tuple[int, str]] = []
        for victim in victims:
            before = published(stack)
            seeded += seed(stack, later.pop(0))
            # The fetcher dies while publishing the new mail (or removing processed mail);
            # the ticketer while handling, somewhere between 10 and 120 outcomes later.
            if victim == "fetcher":
                target = before + rng.randint(5, 60)
                progress = publishes(stack, target)
            else:
                target = min(stack.count("processed_log") + rng.randint(10, 120), len(seeded))
                progress = reached(stack, target)
            stack.wait_until(progress, timeout_s=300, what=f"{victim}: {target} reached")
            kill_and_restart(stack, victim)
            kills.append((stack.count("processed_log"), victim))
        assert not later
        print(f"kills (outcomes written at the time, process): {kills}")
        stack.wait_until(
            lambda: (
                stack.count("processed_log") == len(seeded)
                and all(stack.folders(box)["inbox"] == 0 for box in stack.mailboxes)
            ),
            timeout_s=400,
            what="every mail handled and the inboxes empty",
        )

        print(f"{published(stack)} InboundEmail published for {len(seeded)} mails")
        assert published(stack) >= len(seeded)
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
            assert {s.message_id for s in seeded if s.mail.mailbox == box} <= stack.removed(box)
        assert Counter(v for _, v in kills) == {"ticketer": KILLS_EACH, "fetcher": KILLS_EACH}
