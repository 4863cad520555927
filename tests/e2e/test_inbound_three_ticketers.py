"""Three ticketer processes on one queue, with mail that arrives twice (the same message
delivered to the mailbox by two routes: same Message-ID, two Graph ids) published side by side,
so copies race in different ticketers. 0 duplicates: each Message-ID makes exactly one record
or one message on the right record; the copy is logged ``ignored``/``duplicate`` with the
same record; no record's message count drifts. On SQLite and on PostgreSQL, and on both
providers (Gmail on SQLite, about a quarter of the mail: ``HEAVY_MATRIX``, ``scaled``)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.e2e.corpus import Corpus, Mail
from tests.e2e.harness import Stack, pipeline
from tests.e2e.scenario import Seeded, first_wave, second_wave, seed
from tests.e2e.worlds import HEAVY_MATRIX, scaled

TICKETERS = ("ticketer-1", "ticketer-2", "ticketer-3")


def with_copies(rng: random.Random, mails: list[Mail], copies: int) -> list[Mail]:
    """``mails`` with ``copies`` of them (requests and answers) seeded twice, back to back."""
    twice = set(rng.sample([m.key for m in mails if m.expect.outcome != "ignored"], copies))
    return [c for m in mails for c in ([m, m] if m.key in twice else [m])]


def wait_all(stack: Stack, seeded: Sequence[Seeded]) -> None:
    stack.wait_until(
        lambda: (
            stack.count("processed_log") == len(seeded)
            and all(stack.folders(box)["inbox"] == 0 for box in stack.mailboxes)
        ),
        timeout_s=300,
        what=f"{len(seeded)} mails handled",
    )


def check_no_duplicates(stack: Stack, seeded: Sequence[Seeded]) -> dict[str, int]:
    """One outcome per Message-ID, copies ignored as duplicates of it; the record per request."""
    log = stack.processed_log()
    groups: dict[str, list[Seeded]] = defaultdict(list)
    for item in seeded:
        groups[item.mail.key].append(item)
    record_of: dict[str, int] = {}
    for key, items in sorted(
        groups.items(), key=lambda g: g[1][0].mail.expect.outcome != "created"
    ):
        expect = items[0].mail.expect
        rows = [log[(i.mail.mailbox, i.message_id)] for i in items]
        outcomes = Counter(r["outcome"] for r in rows)
        if expect.outcome == "ignored":
            assert outcomes == {"ignored": len(items)}, key
            continue
        assert outcomes[expect.outcome] == 1, (key, rows)
        winner = next(r for r in rows if r["outcome"] == expect.outcome)
        for row in rows:
            if row is not winner:
                assert (row["outcome"], row["reason"]) == ("ignored", "duplicate"), (key, row)
                assert row["record_id"] == winner["record_id"], key
        if expect.outcome == "created":
            record_of[key] = int(winner["record_id"])
        else:
            assert winner["record_id"] == record_of[str(expect.thread)], key
    assert len(set(record_of.values())) == len(record_of)
    records = stack.rows("records")
    assert len(records) == len(record_of)
    per_record = Counter(m["record_id"] for m in stack.rows("record_messages"))
    assert {r["id"]: r["message_count"] for r in records} == dict(per_record)
    return record_of


@pytest.mark.parametrize(("database_url", "provider"), HEAVY_MATRIX, indirect=True)
def test_three_ticketers_on_one_queue_make_no_duplicates(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str
) -> None:
    rng = random.Random(33)
    with pipeline(
        tmp_path, amqp_url, database_url=database_url, provider=provider, poll_interval_s=0.5
    ) as stack:
        world = stack.world
        corpus = Corpus(seed=33, mailboxes=stack.mailboxes)
        wave1 = first_wave(corpus, scaled(world, 100))
        requests = [m for m in wave1 if m.expect.outcome == "created"]
        # Seeded before anything runs: the first pages of changes carry copies side by side.
        seeded = seed(stack, with_copies(rng, wave1, scaled(world, 50)))
        for name in TICKETERS:
            stack.start("ticketer", name=name)
        stack.start("fetcher")
        wait_all(stack, seeded)
        record_of = check_no_duplicates(stack, seeded)

        answers = second_wave(corpus, requests, record_of, {})
        seeded += seed(stack, with_copies(rng, answers, scaled(world, 30)))
        wait_all(stack, seeded)
        check_no_duplicates(stack, seeded)
        assert len(seeded) > scaled(world, 300)

        handled = {
            name: sum(e["event"] == "email handled" for e in stack.log_events(name))
            for name in TICKETERS
        }
        print(f"{len(seeded)} mails; emails handled per ticketer: {handled}")
        assert all(handled.values()), "every ticketer took part"
        assert sum(handled.values()) == len(seeded)
